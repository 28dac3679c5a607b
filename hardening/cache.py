"""``RedisClusterCache``: Django's ``RedisCache`` on redis-py's cluster client.

Neither Django's Redis backend nor django-redis 7.0 talks to a Redis Cluster (django-redis
has default, herd, sharded and Sentinel clients; its sharded client hashes keys itself and
does not follow ``MOVED``/``ASK``), so this backend keeps Django's backend and swaps the
client for :class:`redis.cluster.RedisCluster`, which discovers the slots from any node and
follows redirections and failovers.  Multi-key calls use redis-py's non-atomic per-slot
variants.  ``hardening.env.Env.cache`` builds it from ``rediscluster://HOST:PORT[,…]``.

The rate limiter runs its script once per hash-tagged identity on it (one slot each,
``hardening.ratelimit.keys``), the different nodes' scripts in one cluster pipeline.
Public: ``RedisClusterCache`` (docs/api.md); its client class is internal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

__all__ = ["RedisClusterCache"]

#: Options passed to ``RedisCluster`` (the others, e.g. Django's ``parser_class``, are not).
_CLUSTER_OPTIONS = frozenset(
    {
        "socket_timeout",
        "socket_connect_timeout",
        "password",
        "username",
        "ssl",
        "retry_on_timeout",
        "health_check_interval",
        "max_connections",
        "reinitialize_steps",
        "cluster_error_retry_attempts",
    }
)


class RedisClusterCacheClient(RedisCacheClient):
    _servers: list[str]
    _serializer: Any

    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **{k: v for k, v in options.items() if k == "serializer"})
        self._cluster_options = {k: v for k, v in options.items() if k in _CLUSTER_OPTIONS}
        self._cluster: Any = None

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        if self._cluster is None:
            from redis.cluster import ClusterNode, RedisCluster

            nodes = []
            for server in self._servers:
                parts = urlsplit(server if "//" in server else f"redis://{server}")
                nodes.append(ClusterNode(parts.hostname or "127.0.0.1", parts.port or 6379))
                if parts.username and "username" not in self._cluster_options:
                    self._cluster_options["username"] = unquote(parts.username)
                if parts.password and "password" not in self._cluster_options:
                    self._cluster_options["password"] = unquote(parts.password)
            self._cluster = RedisCluster(startup_nodes=nodes, **self._cluster_options)
        return self._cluster

    def get_many(self, keys: Any) -> dict[Any, Any]:
        keys = list(keys)
        values = self.get_client().mget_nonatomic(keys)
        return {
            k: self._serializer.loads(v) for k, v in zip(keys, values, strict=True) if v is not None
        }

    def set_many(self, data: Mapping[Any, Any], timeout: Any) -> None:
        client = self.get_client(write=True)
        client.mset_nonatomic({k: self._serializer.dumps(v) for k, v in data.items()})
        if timeout is not None:
            for key in data:
                client.expire(key, timeout)

    def delete_many(self, keys: Any) -> None:
        keys = list(keys)
        if keys:
            self.get_client(write=True).delete(*keys)

    def clear(self) -> bool:
        self.get_client(write=True).flushdb(target_nodes="primaries")
        return True


class RedisClusterCache(RedisCache):
    """``CACHES`` backend: ``LOCATION`` lists one or more nodes of the cluster."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisClusterCacheClient
