"""Where the rate-limit counters live: the redis-py client behind the shared cache (a single
Redis, or a Redis Cluster through :mod:`hardening.cache`), resolved once per process."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.core.cache import BaseCache, caches
from django.core.cache.backends.base import default_key_func
from django.core.signals import setting_changed
from django.dispatch import receiver

from hardening.conf import conf
from hardening.ratelimit.conf import NAMES


def redis_client(cache: BaseCache) -> Any | None:
    """The redis-py client behind django-redis's or Django's RedisCache, else None."""
    client = getattr(cache, "client", None)  # django-redis DefaultClient
    if client is not None and hasattr(client, "get_client") and hasattr(client, "_clients"):
        return client.get_client(write=True)
    inner = getattr(cache, "_cache", None)  # django.core.cache.backends.redis
    if is_cluster(cache) and inner is not None:  # hardening.cache: a RedisCluster
        return inner.get_client(write=True)
    if type(cache).__module__ == "django.core.cache.backends.redis" and inner is not None:
        return inner.get_client(write=True)
    return None


@dataclass(frozen=True)
class RedisTarget:
    """The redis-py client and key prefix of the rate-limit cache, resolved once."""

    client: Any
    prefix: str  # cache.make_key(k) == prefix + k (checked when resolved)
    cluster: bool = False


def is_cluster(cache: BaseCache) -> bool:
    from hardening.cache import RedisClusterCache

    return isinstance(cache, RedisClusterCache)


_PROBE = "hrl:probe"


@lru_cache(maxsize=1)
def redis_target() -> RedisTarget | None:
    """The shared cache's client and prefix when it is Redis with Django's default key
    function, else None (the caller then goes through the cache object).

    redis-py clients are thread-safe and share their connection pool, so one per process
    is enough; cleared when CACHES, HARDENING_CACHE or a rate-limit setting changes.
    """
    cache = caches[conf.HARDENING_CACHE]
    client = redis_client(cache)
    if client is None or getattr(cache, "key_func", None) is not default_key_func:
        return None
    prefix = f"{cache.key_prefix}:{cache.version}:"
    if str(cache.make_key(_PROBE)) != prefix + _PROBE:  # a backend with its own make_key
        return None
    return RedisTarget(client, prefix, is_cluster(cache))


@receiver(setting_changed)
def _clear(*, setting: str, **kwargs: object) -> None:
    if setting in ("CACHES", "HARDENING_CACHE") or setting in NAMES:
        redis_target.cache_clear()
