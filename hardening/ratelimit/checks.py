"""Rate-limit checks (``E3xx`` / ``W3xx``, and ``E063``–``E066`` for Redis topologies the
limiter cannot count on).  The shared cache is checked with the other
services in :mod:`hardening.deploy.services` (E060, E061, W303, W304); the client address
behind proxies in :mod:`hardening.deploy.hosts` (E301–E303, W300, W301)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage

from hardening.checks import problem, register
from hardening.conf import conf as core
from hardening.conf.core import middleware as installed_middleware
from hardening.ratelimit.conf import conf

MIDDLEWARE = "hardening.middleware.RateLimitMiddleware"

_POLICIES_HINT = "Use dicts like {'name': 'user', 'key': 'user', 'rates': ['100/m']}."
_EXEMPT_HINT = "List path prefixes starting with / (or regexes starting with ^)."
_BANS_HINT = (
    "A dict like {'threshold': 20, 'window': 600, 'tiers': [300, 3600, 86400], "
    "'memory': 604800}, or None for no bans."
)
#: ``{setting: (id, hint)}``; the others are switches (True or False): E306.
_FINDINGS = {
    "HARDENING_RATELIMIT_POLICIES": ("E300", _POLICIES_HINT),
    "HARDENING_RATELIMIT_EXEMPT_PATHS": ("E300", _EXEMPT_HINT),
    "HARDENING_RATELIMIT_BANS": ("E304", _BANS_HINT),
}


@register
def check_ratelimit_settings(**kwargs: Any) -> list[CheckMessage]:
    """Every unusable value (it is ignored: the default applies until it is fixed)."""
    messages: list[CheckMessage] = []
    for name, why in conf.problems():
        code, hint = _FINDINGS.get(name, ("E306", f"Set {name} to True or False."))
        messages.append(problem(code, f"{name} is unusable: {why}"[:200], hint))
    return messages


@register
def check_ratelimit_middleware(**kwargs: Any) -> list[CheckMessage]:
    if not conf.HARDENING_RATELIMIT_ENABLED:
        return []
    middleware = installed_middleware()
    if MIDDLEWARE not in middleware:
        return [
            problem(
                "E305",
                "Rate limits are enabled but RateLimitMiddleware is not in MIDDLEWARE.",
                f"Add {MIDDLEWARE!r} after the authentication middleware.",
            )
        ]
    return []


_CLUSTER = "hardening.cache.RedisClusterCache"
_PLAIN_REDIS = ("django_redis.cache.RedisCache", "django.core.cache.backends.redis.RedisCache")
_CLUSTER_HINT = "Use CACHE_URL=rediscluster://HOST:PORT (hardening.cache.RedisClusterCache)."


@register
def check_ratelimit_topology(**kwargs: Any) -> list[CheckMessage]:
    """Redis topologies the limiter cannot count on: never silent non-limiting."""
    if not conf.HARDENING_RATELIMIT_ENABLED:
        return []
    entry = (getattr(settings, "CACHES", None) or {}).get(core.HARDENING_CACHE) or {}
    backend = str(entry.get("BACKEND", ""))
    options = entry.get("OPTIONS") or {}
    if backend == _CLUSTER:
        found = []
        prefix = str(entry.get("KEY_PREFIX", ""))
        if "{" in prefix or "}" in prefix:
            found.append(
                problem(
                    "E064",
                    "The Redis Cluster cache's KEY_PREFIX contains { or }.",
                    "A brace in the prefix becomes every key's hash tag: remove it.",
                )
            )
        if entry.get("KEY_FUNCTION"):
            found.append(
                problem(
                    "E065",
                    "The Redis Cluster cache has a custom KEY_FUNCTION.",
                    "The limiter's keys must keep their {identity} hash tags: remove it.",
                )
            )
        return found
    if backend not in _PLAIN_REDIS:
        return []
    if str(options.get("CLIENT_CLASS", "")).endswith("ShardClient"):
        return [
            problem(
                "E066",
                "The shared cache uses django-redis's ShardClient.",
                "It spreads one request's keys over servers; use one Redis or a cluster.",
            )
        ]
    if _is_cluster_node(entry.get("LOCATION")):
        return [
            problem(
                "E063",
                "The shared cache is a Redis Cluster behind a single-node client.",
                _CLUSTER_HINT,
            )
        ]
    return []


def _is_cluster_node(location: object) -> bool:
    """True when the (first) Redis of ``location`` answers ``cluster_enabled:1``; False when
    it is not a cluster or cannot be reached now (the health checks report that)."""
    if isinstance(location, (list, tuple)):
        location = location[0] if location else ""
    if not isinstance(location, str) or not location.startswith(("redis://", "rediss://")):
        return False
    try:
        import redis

        client = redis.Redis.from_url(
            location.split(",")[0], socket_timeout=0.5, socket_connect_timeout=0.5
        )
        try:
            return int(client.info("cluster").get("cluster_enabled", 0)) == 1
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - unreachable or not Redis: not this check's finding
        return False
