"""Checks for shared services (``E060``–``E079``): the shared cache and the databases.

The shared cache (``HARDENING_CACHE``) holds rate-limit counters and bans, lockout and MFA
counters and revoked tokens; which backends keep their data per process is known in one
place, :func:`hardening.conf.core.per_process`.  Its warnings W303/W304 keep the ids they
had in the rate-limit block.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage

from hardening.checks import problem, register, warning
from hardening.conf import conf
from hardening.conf.core import per_process
from hardening.ratelimit.conf import conf as ratelimit

_TIMEOUT_OPTIONS = {
    "django_redis.cache.RedisCache": "SOCKET_TIMEOUT",
    "django.core.cache.backends.redis.RedisCache": "socket_timeout",
    "hardening.cache.RedisClusterCache": "socket_timeout",
}


@register
def check_shared_cache(**kwargs: Any) -> list[CheckMessage]:
    alias = conf.HARDENING_CACHE
    caches = getattr(settings, "CACHES", None) or {}
    if alias not in caches:
        return [
            problem(
                "E060",
                f"HARDENING_CACHE {alias!r} is not a key of CACHES.",
                "Point HARDENING_CACHE at a shared cache such as Redis.",
            )
        ]
    if not ratelimit.HARDENING_RATELIMIT_ENABLED:
        return []  # the rest is about counting requests across processes
    cache = caches[alias]
    backend = str(cache.get("BACKEND", ""))
    if per_process(alias):
        name = backend.rsplit(".", 1)[-1]
        return [
            problem(
                "E061",
                f"The shared cache {alias!r} ({name}) is not shared between processes.",
                "Each worker would count on its own; use Redis (CACHE_URL=redis://...).",
            )
        ]
    if backend == "django.core.cache.backends.db.DatabaseCache":
        return [
            warning(
                "W303",
                f"The shared cache {alias!r} is a DatabaseCache.",
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
                f"The Redis shared cache {alias!r} has no socket timeout.",
                f"A hung Redis would hang every request; set OPTIONS[{option!r}] (e.g. 0.25).",
            )
        ]
    return []


def _pooled(database: dict[str, Any]) -> bool:
    options = database.get("OPTIONS") or {}
    return bool(options.get("pool"))


@register
def check_database_connections(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for alias, database in (getattr(settings, "DATABASES", {}) or {}).items():
        engine = database.get("ENGINE", "")
        if engine.endswith(("sqlite3", "dummy")):
            if conf.is_production and engine.endswith("sqlite3"):
                messages.append(
                    warning(
                        "W060",
                        f"Database {alias!r} is SQLite in production.",
                        "SQLite serialises writes and is local to one machine; use PostgreSQL.",
                    )
                )
            continue
        if database.get("CONN_MAX_AGE", 0) == 0 and not _pooled(database):
            messages.append(
                problem(
                    "E062",
                    f"Database {alias!r} opens a new connection for every request.",
                    "Set CONN_MAX_AGE (e.g. 60) with CONN_HEALTH_CHECKS = True, or "
                    "OPTIONS={'pool': True} on Django 5.1+ with psycopg 3.",
                )
            )
    return messages


def _served_by_asgi() -> bool:
    from hardening.servers import asgi_server_running

    asgi_only = bool(getattr(settings, "ASGI_APPLICATION", None)) and not getattr(
        settings, "WSGI_APPLICATION", None
    )
    return asgi_only or asgi_server_running()


@register
def check_asgi_database_pool(**kwargs: Any) -> list[CheckMessage]:
    """Under ASGI, persistent connections are thread-local to executor threads and
    outlive CONN_MAX_AGE (one idle backend per past concurrent request): use a pool."""
    if not _served_by_asgi():
        return []
    messages: list[CheckMessage] = []
    for alias, database in (getattr(settings, "DATABASES", {}) or {}).items():
        if not str(database.get("ENGINE", "")).endswith("postgresql") or _pooled(database):
            continue
        if database.get("CONN_MAX_AGE", 0) != 0:
            messages.append(
                problem(
                    "E070",
                    f"Database {alias!r} keeps persistent connections under ASGI without a pool.",
                    "Each executor thread keeps its own connection past CONN_MAX_AGE; use "
                    "CONN_MAX_AGE = 0 with OPTIONS={'pool': {...}} (psycopg 3, Django 5.1+).",
                )
            )
    return messages
