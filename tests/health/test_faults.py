"""Readiness against real, disposable PostgreSQL and Redis instances that fail.

Each test owns its instance (see ``services.py``): stopping or pausing the shared
services would break the other suites.  So these tests do not use the ``postgres`` /
``redis`` markers (which mean "needs HARDENING_TEST_*_URL"); they skip, with the reason,
only when ``initdb`` / ``redis-server`` are not installed.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client, override_settings

from hardening.health import runner
from tests.helpers.services import PgCluster, RedisServer

pytestmark = pytest.mark.usefixtures("uncached")

TIMEOUT = 1.0
SLACK = 0.75  # scheduling and response overhead on a busy machine


def ready() -> tuple[int, dict[str, Any], float]:
    start = time.monotonic()
    response = Client().get("/health/ready")
    return response.status_code, json.loads(response.content), time.monotonic() - start


def poll_until(status: int, deadline: float = 15, *, state: str | None = None) -> dict[str, Any]:
    """Poll readiness until it answers ``status`` (and, if given, the body ``state``:
    ``degraded`` is a 200 too)."""
    end = time.monotonic() + deadline
    while True:
        code, body, _ = ready()
        if code == status and (state is None or body.get("status") == state):
            return body
        assert time.monotonic() < end, body
        time.sleep(0.05)


def database_only(alias: str, **changes: Any) -> override_settings:
    return override_settings(
        **{
            "HARDENING_HEALTH_CHECKS": [("database", {"alias": alias})],
            "HARDENING_HEALTH_TIMEOUT": TIMEOUT,
            **changes,
        }
    )


def assert_no_leak(body: dict[str, Any], *secrets: str) -> None:
    text = json.dumps(body)
    for secret in ("127.0.0.1", "postgres://", "redis://", "Traceback", *secrets):
        assert secret not in text, text


def test_postgres_stopped_ready_503_live_200(pg: PgCluster, pg_alias: str) -> None:
    name = f"database:{pg_alias}"
    with database_only(pg_alias):
        code, body, _ = ready()
        assert code == 200, body
        assert body["checks"][name]["status"] == "ok"
        pg.stop()
        code, body, elapsed = ready()
        assert code == 503
        assert body["checks"][name] == {
            "status": "error",
            "duration_ms": body["checks"][name]["duration_ms"],
            "reason": "database query failed",
        }
        assert elapsed < TIMEOUT + SLACK
        assert_no_leak(body, str(pg.port))
        assert Client().get("/health/live").status_code == 200
        pg.start()
        # The broken connection is discarded and a new one succeeds.
        poll_until(200)


@pytest.mark.parametrize("conn_max_age", [0, 60])
def test_postgres_hung_answers_503_within_the_timeout(
    pg: PgCluster, pg_alias: str, conn_max_age: int
) -> None:
    from django.db import connections

    connections.settings[pg_alias]["CONN_MAX_AGE"] = conn_max_age
    name = f"database:{pg_alias}"
    with database_only(pg_alias):
        assert ready()[0] == 200
        pg.pause()
        try:
            code, body, elapsed = ready()
            assert code == 503, body
            assert body["checks"][name]["reason"] == f"timed out after {TIMEOUT:g}s"
            assert TIMEOUT - 0.05 <= elapsed < TIMEOUT + SLACK
            assert Client().get("/health/live").status_code == 200
            # Still hung: the next probe reuses the blocked call instead of another thread.
            code, _, elapsed = ready()
            assert code == 503
            assert elapsed < TIMEOUT + SLACK
            assert runner.get_runner().in_flight() == [name]
        finally:
            pg.resume()
        poll_until(200)


def redis_caches(server: RedisServer) -> dict[str, Any]:
    return {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "limits": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
            "KEY_PREFIX": "hardening-health-test",
        },
    }


def redis_settings(server: RedisServer) -> override_settings:
    return override_settings(
        CACHES=redis_caches(server),
        # The caches of the automatic set with rate limits on "limits", without the others.
        HARDENING_HEALTH_CHECKS=[
            "cache",
            ("cache", {"alias": "limits", "label": "ratelimit_cache"}),
        ],
        HARDENING_RATELIMIT_ENABLED=True,
        HARDENING_CACHE="limits",
        HARDENING_HEALTH_TIMEOUT=TIMEOUT,
    )


def test_ratelimit_redis_stopped_is_degraded_not_503(redis: RedisServer) -> None:
    from hardening.observability.metrics import HEALTH_DEGRADED

    before = HEALTH_DEGRADED.labels(check="ratelimit_cache")._value.get()
    with redis_settings(redis):
        code, body, _ = ready()
        assert code == 200, body
        assert body["checks"]["ratelimit_cache"]["status"] == "ok"
        assert body["checks"]["cache"]["status"] == "ok"
        redis.stop()
        code, body, elapsed = ready()
    assert (code, body["status"]) == (200, "degraded"), body
    assert body["checks"]["ratelimit_cache"]["status"] == "degraded"
    assert body["checks"]["ratelimit_cache"]["reason"] == "cache is unreachable"
    assert body["checks"]["cache"]["status"] == "ok"
    assert elapsed < TIMEOUT + SLACK
    assert_no_leak(body, str(redis.port))
    assert HEALTH_DEGRADED.labels(check="ratelimit_cache")._value.get() == before + 1


def test_redis_hung_is_degraded_within_the_timeout(redis: RedisServer) -> None:
    with redis_settings(redis):
        assert ready()[0] == 200
        redis.pause()
        try:
            code, body, elapsed = ready()
            assert (code, body["status"]) == (200, "degraded"), body
            assert body["checks"]["ratelimit_cache"]["reason"] == f"timed out after {TIMEOUT:g}s"
            assert elapsed < TIMEOUT + SLACK
        finally:
            redis.resume()
        poll_until(200, state="ok")  # the breaker probes Redis again within its interval


def test_a_critical_cache_down_is_503(redis: RedisServer) -> None:
    with redis_settings(redis), override_settings(HARDENING_HEALTH_CRITICAL=["ratelimit_cache"]):
        assert ready()[0] == 200
        redis.stop()
        code, body, _ = ready()
    assert (code, body["checks"]["ratelimit_cache"]["status"]) == (503, "error")


def test_the_session_cache_down_is_503(redis: RedisServer) -> None:
    with (
        redis_settings(redis),
        override_settings(
            SESSION_ENGINE="django.contrib.sessions.backends.cache", SESSION_CACHE_ALIAS="limits"
        ),
    ):
        assert ready()[0] == 200
        redis.stop()
        code, body, _ = ready()
    assert (code, body["checks"]["ratelimit_cache"]["status"]) == (503, "error")
