"""``hardening.cache.RedisClusterCache`` on a real local Redis Cluster (three masters,
``tests/helpers/cluster.py``), and the ``rediscluster://`` URLs ``Env.cache`` turns into
its settings.

The cluster is private to this module (no ``redis`` marker, which means the shared
``HARDENING_TEST_REDIS_URL``); the tests skip without ``redis-server`` unless
``HARDENING_TEST_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
import redis
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from health_check.exceptions import ServiceUnavailable

from hardening.cache import RedisClusterCache
from hardening.env import Env
from hardening.health.probes import Cache, Degraded
from tests.helpers.cluster import Cluster, redis_cluster
from tests.servers import free_port

#: 30 keys: every one of the three masters owns some of them.
DATA = {f"key-{i}": {"n": i, "items": [i, str(i)]} for i in range(30)}

Make = Callable[..., RedisClusterCache]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with redis_cluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running


def node(port: int, password: str | None = None) -> redis.Redis:
    """A plain client of one master (it answers for its own slots only)."""
    return redis.Redis(port=port, password=password, socket_timeout=5)


def flush(cluster: Cluster, password: str | None = None) -> None:
    for port in cluster.ports:
        with node(port, password) as client:
            client.flushall()


@pytest.fixture
def make(cluster: Cluster) -> Iterator[Make]:
    """``make(location=<the cluster's URLs>, **params)``: a backend, closed and the cluster
    emptied after the test."""
    made: list[RedisClusterCache] = []

    def build(location: Any = None, **params: Any) -> RedisClusterCache:
        if location is None:
            location = [f"redis://127.0.0.1:{port}" for port in cluster.ports]
        backend = RedisClusterCache(location, params)
        made.append(backend)
        return backend

    yield build
    for backend in made:
        client = backend._cache._cluster
        if client is not None:
            client.close()
    flush(cluster)


def stored(cluster: Cluster, password: str | None = None) -> dict[int, dict[str, int]]:
    """``{port: {key: ttl}}``: the keys each master holds."""
    found: dict[int, dict[str, int]] = {}
    for port in cluster.ports:
        with node(port, password) as client:
            found[port] = {key.decode(): int(client.ttl(key)) for key in client.scan_iter()}
    return found


def test_set_many_spreads_over_every_master_and_get_many_reads_them_back(
    cluster: Cluster, make: Make
) -> None:
    """LOCATION may be a comma-separated string of bare ``HOST:PORT`` nodes."""
    cache = make(",".join(f"127.0.0.1:{port}" for port in cluster.ports))
    cache.set_many(DATA, timeout=60)
    assert cache.get_many([*DATA, "never-set"]) == DATA
    per_node = stored(cluster)
    assert all(per_node.values()), per_node  # each master holds some keys
    assert sum(len(keys) for keys in per_node.values()) == len(DATA)
    ttls = [ttl for keys in per_node.values() for ttl in keys.values()]
    assert all(0 < ttl <= 60 for ttl in ttls), ttls


def test_set_many_without_a_timeout_keeps_the_keys_and_timeout_zero_drops_them(
    cluster: Cluster, make: Make
) -> None:
    cache = make()
    cache.set_many(DATA, timeout=None)
    ttls = [ttl for keys in stored(cluster).values() for ttl in keys.values()]
    assert ttls == [-1] * len(DATA)  # persistent
    cache.set_many(DATA, timeout=0)  # Django's meaning: expire at once
    assert cache.get_many(DATA) == {}


def test_delete_many_deletes_across_slots_and_sends_nothing_for_no_keys(
    cluster: Cluster, make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = make()
    cache.set_many(DATA)
    cache.delete_many(list(DATA)[:20])
    assert set(cache.get_many(DATA)) == set(list(DATA)[20:])
    client = cache._cache.get_client()
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(client, "delete", lambda *keys: calls.append(keys))
    cache.delete_many([])
    cache.delete_many(iter(()))
    assert calls == []


def test_clear_empties_every_master(cluster: Cluster, make: Make) -> None:
    cache = make()
    cache.set_many(DATA)
    assert all(stored(cluster).values())
    assert cache.clear() is True
    for port in cluster.ports:
        with node(port) as client:
            assert client.dbsize() == 0, port


def test_cluster_options_reach_redis_py_and_djangos_other_options_do_not(
    cluster: Cluster, make: Make
) -> None:
    """Django's ``db``, ``pool_class`` and ``parser_class`` mean nothing to RedisCluster
    (``db`` other than 0 is an error there): they are left out, the socket ones pass."""
    options = {
        "db": 1,
        "pool_class": "redis.BlockingConnectionPool",
        "parser_class": "redis.connection._RESP2Parser",
        "socket_timeout": 0.75,
        "socket_connect_timeout": 0.5,
    }
    cache = make(OPTIONS=options)
    cache.set("k", "v")
    assert cache.get("k") == "v"
    client = cache._cache.get_client()
    kwargs = client.get_default_node().redis_connection.connection_pool.connection_kwargs
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (0.75, 0.5)
    assert "db" not in kwargs or kwargs["db"] == 0
    assert cache._cache.get_client() is client  # built once, reused


def test_an_unreachable_startup_node_is_skipped(cluster: Cluster, make: Make) -> None:
    cache = make([f"redis://127.0.0.1:{free_port()}", f"redis://127.0.0.1:{cluster.ports[1]}"])
    cache.set_many(DATA)
    assert cache.get_many(DATA) == DATA


def test_no_reachable_node_raises_on_every_use_and_the_probe_reports_it(make: Make) -> None:
    port = free_port()
    cache = make([f"redis://127.0.0.1:{port}"])
    for _ in range(2):  # a failed start is not kept: the next call tries again
        with pytest.raises(redis.exceptions.RedisClusterException, match="cannot be connected"):
            cache.get("k")
    nowhere = {"BACKEND": "hardening.cache.RedisClusterCache", "LOCATION": f"127.0.0.1:{port}"}
    with override_settings(CACHES={"default": nowhere}):
        with pytest.raises(Degraded, match=": cache is unreachable$"):
            Cache().run()
        with pytest.raises(ServiceUnavailable, match=": cache is unreachable$"):
            Cache(critical=True).run()


PASSWORD = "p@ss:w/rd%"  # noqa: S105 - a test cluster's


@pytest.fixture
def protected(cluster: Cluster, make: Make) -> Iterator[Cluster]:
    """The cluster with ``requirepass`` on every master, for the test's duration (after
    ``make``'s backends, which it outlives)."""
    for port in cluster.ports:
        with node(port) as client:
            client.config_set("requirepass", PASSWORD)
    try:
        yield cluster
    finally:
        flush(cluster, PASSWORD)
        for port in cluster.ports:
            with node(port, PASSWORD) as client:
                client.config_set("requirepass", "")


def test_the_password_of_a_location_url_is_percent_decoded(protected: Cluster, make: Make) -> None:
    """As in Django's own Redis backend (redis-py's ``from_url``)."""
    cache = make([f"redis://:{quote(PASSWORD, safe='')}@127.0.0.1:{protected.ports[0]}"])
    cache.set_many(DATA)
    assert cache.get_many(DATA) == DATA


def test_the_password_option_wins_over_the_urls(protected: Cluster, make: Make) -> None:
    cache = make([f"redis://:wrong@127.0.0.1:{protected.ports[0]}"], OPTIONS={"password": PASSWORD})
    cache.set("k", "v")
    assert cache.get("k") == "v"
    refused = make([f"redis://:wrong@127.0.0.1:{protected.ports[0]}"])
    with pytest.raises(redis.exceptions.RedisClusterException, match="invalid username-password"):
        refused.get("k")


@pytest.fixture
def acl_user(cluster: Cluster, make: Make) -> Iterator[str]:
    """An ACL user ``app`` (password :data:`PASSWORD`) on every master; the default user
    refuses every command meanwhile, so only the user's credentials work."""
    for port in cluster.ports:
        with node(port) as client:
            client.acl_setuser(
                "app", enabled=True, passwords=[f"+{PASSWORD}"], keys=["*"], commands=["+@all"]
            )
            client.acl_setuser(
                "default",
                enabled=True,
                nopass=True,
                commands=["-@all", "+cluster", "+auth", "+hello", "+ping", "+acl"],
            )
    try:
        yield "app"
    finally:
        for port in cluster.ports:
            with redis.Redis(port=port, username="app", password=PASSWORD) as client:
                client.acl_setuser(
                    "default",
                    enabled=True,
                    nopass=True,
                    reset=True,
                    commands=["+@all"],
                    keys=["*"],
                    channels=["*"],
                )
                client.acl_deluser("app")


def test_the_username_of_a_location_url_is_used(
    acl_user: str, cluster: Cluster, make: Make
) -> None:
    """A Redis ACL user, as in Django's own Redis backend: ``redis://user:password@host``."""
    cache = make([f"redis://{acl_user}:{quote(PASSWORD, safe='')}@127.0.0.1:{cluster.ports[0]}"])
    cache.set_many(DATA)
    assert cache.get_many(DATA) == DATA


def test_a_rediscluster_cache_url_reaches_a_password_protected_cluster(
    protected: Cluster, make: Make
) -> None:
    nodes = ",".join(f"127.0.0.1:{port}" for port in protected.ports)
    url = f"rediscluster://:{quote(PASSWORD, safe='')}@{nodes}?key_prefix=app"
    config = Env({"CACHE_URL": url}).cache()
    cache = make(config["LOCATION"], **{k: v for k, v in config.items() if k != "LOCATION"})
    cache.set("k", "v")
    assert cache.get("k") == "v"
    assert [keys for keys in stored(protected, PASSWORD).values() if keys] == [{"app:1:k": 300}]


def test_a_rediscluster_url_with_an_acl_user() -> None:
    config = Env({"CACHE_URL": "rediscluster://app:p%40ss@10.0.0.1:7000"}).cache()
    assert config["OPTIONS"] == {"username": "app", "password": "p@ss"}


def test_a_rediscluster_url_defaults() -> None:
    config = Env({"CACHE_URL": "rediscluster://:7000,10.0.0.2:7001/0"}).cache()
    assert config == {
        "BACKEND": "hardening.cache.RedisClusterCache",
        "LOCATION": ["redis://127.0.0.1:7000", "redis://10.0.0.2:7001"],
    }


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("rediscluster://:secret@10.0.0.1", "CACHE_URL is not a valid cache URL."),
        ("rediscluster://:secret@10.0.0.1:port", "CACHE_URL is not a valid cache URL."),
        ("rediscluster://:secret@10.0.0.1:7000,", "CACHE_URL is not a valid cache URL."),
        ("rediscluster://:secret@[::1:7000", "CACHE_URL is not a valid cache URL."),
        ("rediscluster://:secret@10.0.0.1:7000/1", "CACHE_URL: a Redis Cluster has database 0"),
        ("rediscluster://:secret@10.0.0.1:70000", "CACHE_URL is not a valid cache URL."),
        ("rediscluster://:secret@10.0.0.1:0", "CACHE_URL is not a valid cache URL."),
    ],
)
def test_a_bad_rediscluster_url_is_a_clear_error_without_the_password(
    url: str, message: str
) -> None:
    with pytest.raises(ImproperlyConfigured) as raised:
        Env({"CACHE_URL": url}).cache()
    assert str(raised.value).startswith(message)
    assert "secret" not in str(raised.value)
    context = raised.value.__context__
    assert context is None or raised.value.__suppress_context__  # no parser error shown
