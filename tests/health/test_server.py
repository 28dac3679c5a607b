"""The probes through a real gunicorn (WSGI) and uvicorn (ASGI) running the example
project, on a disposable PostgreSQL cluster and Redis server that the test stops and
pauses (no ``postgres`` / ``redis`` markers: the shared services are not used)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.services import PgCluster, RedisServer
from tests.servers import Reply, Server, run_until_exit, serve

TIMEOUT = 1.0


def poll(server: Server, status: int, deadline: float = 20, state: str | None = None) -> Reply:
    """Probe until ``status`` (and body ``state``); the cache keeps a result up to 1 s."""
    end = time.monotonic() + deadline
    while True:
        start = time.monotonic()
        reply = server.get("/health/ready", timeout=10)
        # Whatever state the dependencies are in, a probe answers within the budget.
        assert time.monotonic() - start < TIMEOUT + 1.5, reply
        if reply.status == status and (state is None or body(reply)["status"] == state):
            return reply
        assert time.monotonic() < end, (reply.status, reply.body)
        time.sleep(0.05)


def timed_poll(
    server: Server, status: int, what: str, state: str | None = None, deadline: float = 20
) -> Reply:
    """:func:`poll`, printing how long after the fault (or the fix) readiness said so."""
    began = time.monotonic()
    reply = poll(server, status, deadline, state)
    said = f"{status} {state or body(reply)['status']}"
    print(f"MEASURED readiness {what}: {said} {time.monotonic() - began:.2f} s after")
    return reply


def body(reply: Reply) -> dict[str, Any]:
    data = reply.json()
    assert isinstance(data, dict)
    return data


@pytest.mark.server
@pytest.mark.parametrize("kind", ["gunicorn", "uvicorn"])
def test_ready_follows_postgres_and_redis(
    kind: str, pg: PgCluster, redis: RedisServer, tmp_path: Path
) -> None:
    env = {
        "DATABASE_URL": pg.url,
        "CACHE_URL": redis.url,
        "HEALTH_TIMEOUT": str(TIMEOUT),
        "HEALTH_CACHE_SECONDS": "0.2",
    }
    migrate = run_until_exit(
        [sys.executable, "example_project/manage.py", "migrate", "--noinput"], env=env
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    with serve(kind, env=env, ready_path="/health/live", tmp_path=tmp_path) as server:
        reply = poll(server, 200)
        assert reply.headers["content-type"] == "application/json"
        assert "no-store" in reply.headers["cache-control"]
        checks = body(reply)["checks"]
        assert {"database", "migrations", "cache", "disk"} <= set(checks)
        assert all(check["status"] == "ok" for check in checks.values()), checks

        pg.stop()
        down = body(timed_poll(server, 503, f"{kind} postgres stopped"))
        assert down["checks"]["database"]["status"] == "error"
        assert str(pg.port) not in str(down) and "Traceback" not in str(down)
        assert server.get("/health/live").status == 200
        pg.start()
        timed_poll(server, 200, f"{kind} postgres restarted")

        pg.pause()
        try:
            hung = body(timed_poll(server, 503, f"{kind} postgres SIGSTOP"))
            assert hung["checks"]["database"]["reason"] == f"timed out after {TIMEOUT:g}s"
            assert server.get("/health/live").status == 200
        finally:
            pg.resume()
        timed_poll(server, 200, f"{kind} postgres SIGCONT")

        # Redis (rate limits fail open/closed, shared JWKS copy) is tolerated: the
        # instance still serves, so readiness stays 200 and says "degraded".
        redis.pause()
        try:
            hung = body(timed_poll(server, 200, f"{kind} redis SIGSTOP", state="degraded"))
            # The example's 0.25 s socket timeout answers before the 1 s check timeout.
            assert hung["checks"]["cache"]["status"] == "degraded"
            assert hung["checks"]["cache"]["reason"] == "cache is unreachable"
            assert hung["checks"]["database"]["status"] == "ok"
            assert server.get("/api/me").status in (401, 403)  # served, fail open
        finally:
            redis.resume()
        timed_poll(server, 200, f"{kind} redis SIGCONT", state="ok")
        redis.stop()
        down = body(timed_poll(server, 200, f"{kind} redis stopped", state="degraded"))
        assert down["checks"]["cache"]["reason"] == "cache is unreachable"
        assert server.get("/api/me").status in (401, 403)
        assert server.get("/health/live").status == 200
        redis.start()  # the same port again
        timed_poll(server, 200, f"{kind} redis restarted", state="ok")
