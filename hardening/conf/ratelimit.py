"""Settings of the rate limits (``hardening.ratelimit``)."""

from __future__ import annotations

from typing import Any

from hardening.conf.base import BaseSettings, _get

__all__ = ["RateLimitSettings"]


class RateLimitSettings(BaseSettings):
    # -- rate limits --------------------------------------------------------------------

    @property
    def HARDENING_RATELIMIT_CACHE(self) -> str:
        """Alias of the cache in ``CACHES`` that holds rate-limit counters and bans."""
        return str(_get("HARDENING_RATELIMIT_CACHE", "default"))

    @property
    def HARDENING_RATELIMIT_ENABLED(self) -> bool:
        return bool(_get("HARDENING_RATELIMIT_ENABLED", True))

    @property
    def HARDENING_RATELIMIT_POLICIES(self) -> Any:
        """Policy dicts (see hardening.ratelimit.policy); validated by hardening.E300."""
        return _get(
            "HARDENING_RATELIMIT_POLICIES",
            [
                {"name": "user", "key": "user", "rates": ["100/m"]},
                {"name": "ip", "key": "anon", "rates": ["60/m"]},
                {"name": "global", "key": "global", "rates": ["10000/m"]},
            ],
        )

    @property
    def HARDENING_RATELIMIT_EXEMPT_PATHS(self) -> list[str]:
        """Path prefixes never limited (``^``: a regex)."""
        return [str(p) for p in _get("HARDENING_RATELIMIT_EXEMPT_PATHS", ["/health/", "/metrics"])]

    @property
    def HARDENING_RATELIMIT_HEADERS(self) -> bool:
        """Send ``RateLimit`` / ``RateLimit-Policy`` (IETF draft); off: they disclose capacity."""
        return bool(_get("HARDENING_RATELIMIT_HEADERS", False))

    @property
    def HARDENING_RATELIMIT_IPV4_MASK(self) -> int:
        return int(_get("HARDENING_RATELIMIT_IPV4_MASK", 32))

    @property
    def HARDENING_RATELIMIT_IPV6_MASK(self) -> int:
        return int(_get("HARDENING_RATELIMIT_IPV6_MASK", 64))

    @property
    def HARDENING_RATELIMIT_BAN_THRESHOLD(self) -> int:
        """Blocked requests within BAN_WINDOW seconds that earn a ban (0: no bans)."""
        return int(_get("HARDENING_RATELIMIT_BAN_THRESHOLD", 20))

    @property
    def HARDENING_RATELIMIT_BAN_WINDOW(self) -> int:
        return int(_get("HARDENING_RATELIMIT_BAN_WINDOW", 600))

    @property
    def HARDENING_RATELIMIT_BAN_TIERS(self) -> list[int]:
        """Ban lengths in seconds for the 1st, 2nd, ... ban (the last one repeats)."""
        return [int(v) for v in _get("HARDENING_RATELIMIT_BAN_TIERS", [300, 3600, 86400])]

    @property
    def HARDENING_RATELIMIT_BAN_MEMORY(self) -> int:
        """Seconds a ban level is remembered after the last ban."""
        return int(_get("HARDENING_RATELIMIT_BAN_MEMORY", 7 * 86400))
