"""django-ratelimit's fixed window helpers for the shared caches other than Redis."""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

from django.core.cache import BaseCache

from hardening.ratelimit.config import Config

if TYPE_CHECKING:
    from hardening.ratelimit.limiter import Decision

__all__ = ["violate", "window_end"]


def window_end(value: str, period: int, now: float) -> int:
    # django_ratelimit.core._get_window with an injectable clock: epoch-aligned windows
    # with a per-key offset so that all windows do not end at the same second.
    ts = int(now)
    if period == 1:
        return ts
    w = ts - (ts % period) + (zlib.crc32(value.encode()) % period)
    return w + period if w < ts else w


def violate(cache: BaseCache, decision: Decision, cfg: Config, now: float) -> None:
    violators = {
        w.check.identity
        for w in decision.windows
        if not w.allowed and w.check.identity and w.check.policy.ban
    }
    for identity in sorted(violators):
        vio = f"hrl:vio:{identity}"
        cache.add(vio, 0, cfg.ban_window)
        if cache.incr(vio) < cfg.ban_threshold:
            continue
        level_key = f"hrl:lvl:{identity}"
        cache.add(level_key, 0, cfg.ban_memory)
        level = cache.incr(level_key)
        cache.touch(level_key, cfg.ban_memory)
        seconds = cfg.ban_tiers[min(level, len(cfg.ban_tiers)) - 1]
        cache.set(f"hrl:ban:{identity}", now + seconds, seconds)
        cache.delete(vio)
        decision.new_ban = (identity, seconds)
        decision.retry_after = max(decision.retry_after, seconds)
        return
