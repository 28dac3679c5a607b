"""Rate-limit checks (``E3xx`` / ``W3xx``).  The cache itself is checked by the core
checks E060 (alias not in CACHES) and E061 (not shared between processes)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage

from hardening.checks import problem, register, warning
from hardening.conf import conf
from hardening.ratelimit.config import get_config, parse_bans
from hardening.ratelimit.policy import PolicyError

__all__ = [
    "check_ratelimit_cache_options",
    "check_ratelimit_middleware",
    "check_ratelimit_policies",
]

MIDDLEWARE = "hardening.ratelimit.middleware.RateLimitMiddleware"


@register
def check_ratelimit_policies(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    try:
        parse_bans()
    except PolicyError as exc:
        messages.append(
            problem("E304", f"Rate-limit ban settings are unusable: {exc}"[:200], _BAN_HINT)
        )
        return messages
    try:
        get_config.cache_clear()
        get_config()
    except PolicyError as exc:
        messages.append(
            problem(
                "E300",
                f"HARDENING_RATELIMIT_POLICIES is unusable: {exc}"[:200],
                "Use dicts like {'name': 'user', 'key': 'user', 'rates': ['100/m']}.",
            )
        )
    return messages


_BAN_HINT = "HARDENING_RATELIMIT_BAN_TIERS is a list of seconds, e.g. [300, 3600, 86400]."


@register
def check_ratelimit_middleware(**kwargs: Any) -> list[CheckMessage]:
    if not conf.HARDENING_RATELIMIT_ENABLED:
        return []
    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if MIDDLEWARE not in middleware:
        return [
            problem(
                "E305",
                "Rate limits are enabled but RateLimitMiddleware is not in MIDDLEWARE.",
                f"Add {MIDDLEWARE!r} after the authentication middleware.",
            )
        ]
    return []


_TIMEOUT_OPTIONS = {
    "django_redis.cache.RedisCache": "SOCKET_TIMEOUT",
    "django.core.cache.backends.redis.RedisCache": "socket_timeout",
}


@register
def check_ratelimit_cache_options(**kwargs: Any) -> list[CheckMessage]:
    """Beyond E060/E061: caches that work but count badly or hang (warnings)."""
    if not conf.HARDENING_RATELIMIT_ENABLED:
        return []
    alias = conf.HARDENING_RATELIMIT_CACHE
    cache = (getattr(settings, "CACHES", None) or {}).get(alias)
    if not cache:
        return []  # hardening.E060
    backend = cache.get("BACKEND", "")
    if backend == "django.core.cache.backends.db.DatabaseCache":
        return [
            warning(
                "W303",
                f"The rate-limit cache {alias!r} is a DatabaseCache.",
                "Its increments are not atomic: concurrent requests can be lost; use Redis.",
            )
        ]
    option = _TIMEOUT_OPTIONS.get(backend)
    options = cache.get("OPTIONS") or {}
    location = str(cache.get("LOCATION", ""))
    if option and option not in options and "socket_timeout" not in location:
        return [
            warning(
                "W304",
                f"The rate-limit cache {alias!r} has no socket timeout.",
                f"A hung Redis would hang every request; set OPTIONS[{option!r}] (e.g. 0.25).",
            )
        ]
    return []
