"""The parsed rate-limit configuration, cached until a HARDENING_RATELIMIT_* setting changes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from django.core.signals import setting_changed
from django.dispatch import receiver

from hardening.conf import conf
from hardening.ratelimit.policy import Policy, PolicyError, parse_policies

__all__ = ["Config", "get_config", "parse_bans"]


@dataclass(frozen=True)
class Config:
    policies: tuple[Policy, ...]
    exempt_prefixes: tuple[str, ...]
    exempt_regexes: tuple[re.Pattern[str], ...]
    headers: bool
    ban_threshold: int
    ban_window: int
    ban_tiers: tuple[int, ...]
    ban_memory: int

    def exempt(self, path: str) -> bool:
        return path.startswith(self.exempt_prefixes) or any(
            r.match(path) for r in self.exempt_regexes
        )

    @property
    def bans_enabled(self) -> bool:
        return self.ban_threshold > 0 and bool(self.ban_tiers)

    @cached_property
    def ban_args(self) -> tuple[int, ...]:
        """The script's ARGV after now, nb, nw: threshold, window, memory, ntiers, tiers."""
        tiers = self.ban_tiers
        return (self.ban_threshold, self.ban_window, self.ban_memory, len(tiers), *tiers)


def parse_bans() -> tuple[int, int, tuple[int, ...], int]:
    """(threshold, window, tiers, memory); PolicyError when unusable (hardening.E304)."""
    try:
        threshold = conf.HARDENING_RATELIMIT_BAN_THRESHOLD
        window = conf.HARDENING_RATELIMIT_BAN_WINDOW
        tiers = tuple(conf.HARDENING_RATELIMIT_BAN_TIERS)
        memory = conf.HARDENING_RATELIMIT_BAN_MEMORY
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"ban settings must be integers: {exc}") from None
    if threshold < 0 or window <= 0 or memory <= 0 or any(t <= 0 for t in tiers):
        raise PolicyError("ban threshold must be >= 0; window, memory and tiers > 0 seconds")
    return threshold, window, tiers, memory


@lru_cache(maxsize=1)
def get_config() -> Config:
    """Raises PolicyError for an unusable configuration (reported by the E3xx checks)."""
    exempt = conf.HARDENING_RATELIMIT_EXEMPT_PATHS
    try:
        regexes = tuple(re.compile(p) for p in exempt if p.startswith("^"))
    except re.error as exc:
        raise PolicyError(f"HARDENING_RATELIMIT_EXEMPT_PATHS: bad regex: {exc}") from None
    threshold, window, tiers, memory = parse_bans()
    return Config(
        policies=parse_policies(conf.HARDENING_RATELIMIT_POLICIES),
        exempt_prefixes=tuple(p for p in exempt if not p.startswith("^")),
        exempt_regexes=regexes,
        headers=conf.HARDENING_RATELIMIT_HEADERS,
        ban_threshold=threshold,
        ban_window=window,
        ban_tiers=tiers,
        ban_memory=memory,
    )


@receiver(setting_changed)
def _clear(*, setting: str, **kwargs: object) -> None:
    if setting.startswith("HARDENING_RATELIMIT_"):
        get_config.cache_clear()
