"""django-ratelimit's fixed window helpers for the shared caches other than Redis."""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from django.core.cache import BaseCache

from hardening.ratelimit.keys import ban_key, level_key, vio_key
from hardening.ratelimit.policy import Bans


def window_end(value: str, period: int, now: float) -> int:
    # django_ratelimit.core._get_window with an injectable clock: epoch-aligned windows
    # with a per-key offset so that all windows do not end at the same second.
    ts = int(now)
    if period == 1:
        return ts
    w = ts - (ts % period) + (zlib.crc32(value.encode()) % period)
    return w + period if w < ts else w


def violate(
    cache: BaseCache, violators: Iterable[str], bans: Bans, now: float
) -> tuple[str, int] | None:
    """Count a violation for each of ``violators``; the first to reach the threshold is
    banned: ``(identity, seconds)``, else None."""
    for identity in sorted(set(violators)):
        vio = vio_key(identity)
        cache.add(vio, 0, bans.window)
        if cache.incr(vio) < bans.threshold:
            continue
        level_name = level_key(identity)
        cache.add(level_name, 0, bans.memory)
        level = cache.incr(level_name)
        cache.touch(level_name, bans.memory)
        seconds = bans.tiers[min(level, len(bans.tiers)) - 1]
        cache.set(ban_key(identity), now + seconds, seconds)
        cache.delete(vio)
        return identity, seconds
    return None
