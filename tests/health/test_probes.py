"""The checks of ``hardening.health.probes`` run directly, for the failures the readiness
view tests do not reach: aliases that do not exist, a cache that loses writes, a file
system without a size, the JWT package missing or broken, migration state unreadable while
PostgreSQL is down, and a Redis Cluster (``hardening.cache``) of one master or reporting a
state other than ``ok``.

The PostgreSQL cluster and the Redis Cluster are private to these tests (no ``postgres`` /
``redis`` marker); they skip without ``initdb`` / ``redis-server`` unless
``HARDENING_TEST_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import re
import shutil
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import caches
from django.test import override_settings
from health_check.exceptions import ServiceUnavailable, ServiceWarning

from hardening.health import probes
from hardening.health.probes import Cache, Database, Degraded, Disk, Jwks, Migrations, Skipped
from tests.helpers.cluster import Cluster, redis_cluster
from tests.helpers.services import PgCluster

DUMMY = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}


@pytest.mark.parametrize("check", [Database, Migrations])
def test_a_database_alias_that_does_not_exist_is_unavailable(check: type[Any]) -> None:
    with pytest.raises(ServiceUnavailable, match=": database alias does not exist$"):
        check(alias="nope").run()


def test_migration_state_unreadable_while_postgres_is_down_then_read_again(
    pg: PgCluster, pg_alias: str
) -> None:
    """Once PostgreSQL is back the check reads the state again (the broken connection was
    dropped): it passes, or counts unapplied migrations if no earlier test migrated this
    database."""
    pg.stop()
    with pytest.raises(ServiceUnavailable, match=": migration state could not be read$"):
        Migrations(alias=pg_alias).run()
    pg.start()
    try:
        Migrations(alias=pg_alias).run()
    except ServiceUnavailable as exc:
        assert re.search(r": \d+ migration\(s\) not applied$", str(exc)), exc


def test_a_cache_alias_that_does_not_exist_is_unavailable_even_when_not_critical() -> None:
    with pytest.raises(ServiceUnavailable, match=": cache alias does not exist$"):
        Cache(alias="nope").run()


def test_a_cache_that_loses_what_it_is_given_is_degraded_or_unavailable() -> None:
    """DummyCache, or a client that hides an outage (django-redis IGNORE_EXCEPTIONS)."""
    with override_settings(CACHES={"default": DUMMY, "dummy": DUMMY}):
        with pytest.raises(Degraded, match=": cache did not return the value written$"):
            Cache(alias="dummy").run()
        with pytest.raises(ServiceUnavailable, match=": cache did not return the value written$"):
            Cache(alias="dummy", critical=True).run()


def test_a_file_system_without_a_size_counts_as_empty(tmp_path: Path) -> None:
    """/proc reports a total of 0 bytes: no division by zero, and no effect on the worst
    usage of the other paths."""
    if shutil.disk_usage("/proc").total != 0:
        pytest.skip("needs a file system that reports no size (/proc on Linux)")
    tiny = {"max_percent": 1e-9, "warn_percent": None}
    Disk(paths=["/proc"], **tiny).run()
    with pytest.raises(ServiceUnavailable, match=r"disk \d+% used \(limit 1e-09%\)"):
        Disk(paths=["/proc", str(tmp_path)], **tiny).run()


def test_jwks_is_skipped_when_the_jwt_package_is_not_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "hardening.jwt.keys", None)  # import fails: not found
    with pytest.raises(Skipped):
        Jwks().run()


def test_a_missing_dependency_of_the_jwt_package_is_not_mistaken_for_no_jwt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def import_module(name: str) -> Any:
        raise ModuleNotFoundError("No module named 'jwt'", name="jwt")

    monkeypatch.setattr(probes, "importlib", types.SimpleNamespace(import_module=import_module))
    with pytest.raises(ModuleNotFoundError, match="'jwt'"):
        Jwks().run()


@pytest.fixture(scope="module")
def one_master(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with redis_cluster(tmp_path_factory.mktemp("cluster"), masters=1) as running:
        yield running


@pytest.fixture
def on_cluster(one_master: Cluster) -> Iterator[Any]:
    """The default cache on the one-master cluster; yields its redis-py client."""
    location = f"redis://127.0.0.1:{one_master.ports[0]}"
    with override_settings(
        CACHES={"default": {"BACKEND": "hardening.cache.RedisClusterCache", "LOCATION": location}}
    ):
        client = caches["default"]._cache.get_client()
        try:
            yield client
        finally:
            client.close()


def test_a_one_master_cluster_is_healthy(on_cluster: Any) -> None:
    """With one master redis-py answers CLUSTER INFO with that node's reply itself, not a
    reply per node."""
    assert on_cluster.cluster_info(target_nodes=on_cluster.PRIMARIES)["cluster_state"] == "ok"
    Cache(critical=True).run()


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ({}, "the Redis Cluster reported no state"),
        ("cluster_state:ok", "the Redis Cluster reported no state"),
        ({"cluster_state": "fail", "cluster_slots_ok": 0}, "Redis Cluster state is fail"),
        ({"a:1": {"cluster_state": "ok"}, "b:2": {"cluster_state": "fail"}}, "state is fail"),
        ({"a:1": {"cluster_state": "ok"}, "b:2": {}}, "Redis Cluster state is None"),
        ({"a:1": {"cluster_state": "ok"}, "b:2": "garbled"}, "Redis Cluster state is unknown"),
    ],
)
def test_a_cluster_state_other_than_ok_fails_the_cache_check(
    on_cluster: Any, monkeypatch: pytest.MonkeyPatch, reply: object, reason: str
) -> None:
    """Replies a healthy test cluster cannot give (a master that says ``fail`` while the
    probe's own key round trip succeeds), at redis-py's boundary."""
    asked: list[Any] = []

    def cluster_info(*, target_nodes: Any) -> object:
        asked.append(target_nodes)
        return reply

    monkeypatch.setattr(on_cluster, "cluster_info", cluster_info)
    with pytest.raises(Degraded, match=f"{reason}$"):
        Cache().run()
    with pytest.raises(ServiceUnavailable, match=f"{reason}$") as raised:
        Cache(critical=True).run()
    assert not isinstance(raised.value, ServiceWarning)
    assert asked == [on_cluster.PRIMARIES] * 2
