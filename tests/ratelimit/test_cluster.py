"""A real local Redis Cluster (three masters, ``tests/helpers/cluster.py``): the example
project with ``CACHE_URL=rediscluster://…`` limits exactly, and a master killed mid-test
fails open for the general policies and closed for the auth route, as a Redis outage does
(never a silent pass of a fail-closed policy)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.cache import caches
from django.test import override_settings
from health_check.exceptions import ServiceUnavailable

from hardening.health.probes import Cache
from hardening.ratelimit.conf import config
from hardening.ratelimit.decision import Check
from hardening.ratelimit.keys import window_key
from hardening.ratelimit.limiter import Limiter, redis_target
from tests.helpers.checks import check_error_codes, production
from tests.helpers.clock import FakeClock, installed
from tests.helpers.cluster import Cluster, redis_cluster
from tests.helpers.ratelimit import OUTAGE_LIMITS, burst, session_cookie, through_outage
from tests.servers import serve

pytestmark = [pytest.mark.server]


def owner(cluster: Cluster, key: str) -> int:
    """The index of the master that holds ``key``'s slot."""
    from redis.cluster import ClusterNode, RedisCluster

    client = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", cluster.ports[0])])
    try:
        return cluster.ports.index(int(client.get_node_from_key(key).port))
    finally:
        client.close()


def test_the_limiter_on_a_cluster_counts_across_slots(tmp_path: Path) -> None:
    """In process: three identities in three slots, one pipeline; a refusal by one slot
    keeps the others' units leased (they are counted and never admit past the limit)."""
    with redis_cluster(tmp_path) as cluster:
        nodes = [f"redis://127.0.0.1:{p}" for p in cluster.ports]
        cache_conf = {"BACKEND": "hardening.cache.RedisClusterCache", "LOCATION": nodes}
        with override_settings(
            CACHES={"default": cache_conf},
            HARDENING_RATELIMIT_POLICIES=[
                {"name": "user", "key": "user", "rates": ["5/m"]},
                {"name": "global", "key": "global", "rates": ["8/m"]},
            ],
        ):
            target = redis_target()
            assert target is not None and target.cluster
            cfg = config()
            user, glob = cfg.policies
            clock = FakeClock()
            limiter = Limiter()

            def ask(uid: int) -> bool:
                checks = [
                    Check(user, user.rates[0], f"u:{uid}", f"u:{uid}"),
                    Check(glob, glob.rates[0], "*", None),
                ]
                with installed(clock):
                    decision = limiter.decide(checks, [f"u:{uid}", "ip:192.0.2.1"], cfg)
                clock.advance(0.01)
                return decision.allowed

            first = [ask(1) for _ in range(7)]
            assert first == [True] * 5 + [False] * 2
            second = [ask(2) for _ in range(7)]
            assert second == [True] * 3 + [False] * 4  # the global 8/m is spent
            client = target.client
            names = {window_key(Check(user, user.rates[0], "u:1", "u:1")), "hrl:w:{*}:global:60"}
            slots = {client.keyslot(target.prefix + n) for n in names}
            assert len(slots) == 2
            caches["default"].clear()


def test_a_cluster_behind_a_single_node_client_is_an_error_and_health_sees_its_state(
    tmp_path: Path,
) -> None:
    with redis_cluster(tmp_path) as cluster:
        plain = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{cluster.ports[0]}/0",
            "OPTIONS": {"socket_timeout": 0.5},
        }
        with production(CACHES={"default": plain}):
            assert check_error_codes().get("hardening.E063") == "ERROR"
        nodes = [f"redis://127.0.0.1:{p}" for p in cluster.ports]
        options = {"socket_timeout": 0.25, "socket_connect_timeout": 0.25}
        good = {"BACKEND": "hardening.cache.RedisClusterCache", "LOCATION": nodes}
        with production(CACHES={"default": {**good, "OPTIONS": options}}):
            assert "hardening.E063" not in check_error_codes()
            probe = Cache(critical=True)
            probe.run()  # a healthy cluster
            cluster.kill(2)
            with pytest.raises(ServiceUnavailable, match="Redis Cluster|cache is unreachable"):
                probe.run()


@pytest.mark.parametrize("workers", [4])
def test_500_concurrent_requests_against_50_per_minute_on_a_cluster(
    tmp_path: Path, workers: int
) -> None:
    with redis_cluster(tmp_path) as cluster:
        env = {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "CACHE_URL": cluster.url,
            "RATE_LIMIT_USER": "50/m",
            "RATE_LIMIT_IP": "100000/m",
            "RATE_LIMIT_GLOBAL": "100000/m",
        }
        cookie = {"Cookie": f"sessionid={session_cookie(env)}"}
        with serve("gunicorn", workers=workers, env=env, tmp_path=tmp_path) as server:
            ready = server.get("/health/ready").json()
            statuses = burst(server, 500, cookie)
            log = server.output()
    assert statuses[200] == 50, (statuses, log[-3000:])
    assert statuses[429] == 450, statuses
    assert "Traceback" not in log
    assert "CrossSlot" not in log
    assert isinstance(ready, dict)


def test_a_master_killed_mid_test_fails_open_for_general_and_closed_for_auth(
    tmp_path: Path,
) -> None:
    with redis_cluster(tmp_path) as cluster:
        env = {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "CACHE_URL": cluster.url,
            **OUTAGE_LIMITS,
        }
        with serve("gunicorn", workers=2, env=env, tmp_path=tmp_path) as server:

            def lose_the_clients_slot() -> None:
                assert b'"cache": {"status": "ok"' in server.get("/health/ready").body
                cluster.kill(owner(cluster, "{ip:127.0.0.1}"))
                deadline = time.monotonic() + 15
                survivor = next(i for i, p in enumerate(cluster.processes) if p.poll() is None)
                while cluster.state(survivor) != "fail" and time.monotonic() < deadline:
                    time.sleep(0.1)

            before_general, general, replies = through_outage(server, lose_the_clients_slot)
            ready = server.get("/health/ready")
            log = server.output()
    assert general == [before_general] * 10, log[-3000:]  # fail open
    assert [r.status for r in replies] == [503] * 10, log[-3000:]  # fail closed
    assert "ratelimit.cache_error" in log
    assert b'"cache": {"status": "ok"' not in ready.body, ready.body  # not ok: reported
