"""End to end: Redis paused with SIGSTOP (hung, not refused) under real servers.

Without the circuit breaker every rate-limited request waited for the full socket
timeout; with it only the first request per worker (and one probe per interval) does.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.health.conftest import _disposable as disposable
from tests.health.services import RedisServer, garbage_server, redis_server
from tests.servers import Server, serve

pytestmark = [pytest.mark.server]

SOCKET_TIMEOUT = 0.25  # the example's default for a Redis cache
AUTH = {"method": "POST", "data": b"{}", "headers": {"Content-Type": "application/json"}}


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    yield from disposable(redis_server(), "redis-server", "redis-server")


def timed(server: Server, path: str = "/api/me", **kwargs: object) -> tuple[int, float, bool]:
    start = time.monotonic()
    reply = server.request(path, timeout=10, **kwargs)  # type: ignore[arg-type]
    return reply.status, time.monotonic() - start, "ratelimit-policy" in reply.headers


@pytest.mark.parametrize("kind", ["gunicorn", "uvicorn"])
def test_hung_redis_costs_one_timeout_then_requests_are_answered_at_once(
    kind: str, redis: RedisServer, tmp_path: Path
) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": redis.url,
        "RATE_LIMIT_IP": "100000/m",
        "RATE_LIMIT_AUTH": "100000/m",
        "RATE_LIMIT_HEADERS": "true",
    }
    with serve(kind, env=env, tmp_path=tmp_path, ready_path="/health/live") as server:
        status, _, counted = timed(server)
        assert status in (401, 403) and counted  # Redis answers: RateLimit headers
        threads_before = len(os.listdir(f"/proc/{server.process.pid}/task"))
        redis.pause()
        during = [timed(server) for _ in range(30)]
        with ThreadPoolExecutor(max_workers=32) as pool:  # 64 requests, 32 in flight
            concurrent = list(pool.map(lambda _: timed(server), range(64)))
        threads = len(os.listdir(f"/proc/{server.process.pid}/task"))
        auth = [timed(server, "/api/auth/token", **AUTH) for _ in range(5)]
        redis.resume()
        resumed = time.monotonic()
        while True:  # recovered: the limiter counts in Redis again (headers are back)
            status, _, counted = timed(server)
            if counted:
                break
            assert time.monotonic() - resumed < 6, "no recovery within 6 s"
            time.sleep(0.02)
        recovery = time.monotonic() - resumed
        log = server.output()
    elapsed = [e for _, e, _ in during]
    assert {s for s, _, _ in during} == {status}, log[-3000:]  # general routes fail open
    assert not any(c for _, _, c in during)
    # Only the first request (and at most a few probes) wait for the socket timeout.
    slow = [e for e in elapsed if e >= SOCKET_TIMEOUT * 0.8]
    assert len(slow) <= 4, elapsed
    assert statistics.median(elapsed) < SOCKET_TIMEOUT / 2, elapsed
    assert max(elapsed) < SOCKET_TIMEOUT * 2 + 1, elapsed
    assert {s for s, _, _ in concurrent} == {status}
    assert max(e for _, e, _ in concurrent) < 2.0, concurrent  # no queueing behind timeouts
    # At most one pooled request thread per request in flight (32) plus a few executor
    # threads: bounded by the concurrency, not by the number of requests (was 3 -> 222).
    assert threads < threads_before + 32 + 24, (threads_before, threads)
    assert [s for s, _, _ in auth] == [503] * 5  # fail closed
    assert statistics.median([e for _, e, _ in auth]) < SOCKET_TIMEOUT / 2
    assert recovery < 3.0, recovery
    # One audit line and one breaker WARNING per outage, one on recovery: not per request.
    assert log.count('"event": "ratelimit.cache_error"') == 1, log[-3000:]
    assert log.count("skipping it, probing again") == 1, log[-3000:]
    assert log.count("recovered after") == 1, log[-3000:]
    median, worst = statistics.median(elapsed) * 1000, max(elapsed) * 1000
    print(f"{kind}: median {median:.1f} ms, max {worst:.0f} ms, recovery {recovery:.2f} s, "
          f"threads {threads_before} -> {threads}")  # fmt: skip


def test_a_redis_port_answering_garbage_fails_open_and_closed_at_once(tmp_path: Path) -> None:
    with garbage_server() as port:
        env = {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "CACHE_URL": f"redis://127.0.0.1:{port}/0",
        }
        with serve("gunicorn", env=env, tmp_path=tmp_path, ready_path="/health/live") as server:
            general = [timed(server) for _ in range(10)]
            auth = [timed(server, "/api/auth/token", **AUTH) for _ in range(3)]
            ready = server.get("/health/ready")
            log = server.output()
    assert {s for s, _, _ in general} <= {401, 403}, log[-3000:]  # fail open
    assert [s for s, _, _ in auth] == [503] * 3  # fail closed
    assert max(e for _, e, _ in general) < 1.0
    cache = ready.json()["checks"]["cache"]  # type: ignore[index]  # (sqlite is unmigrated here)
    assert cache["status"] == "degraded", cache
    assert log.count('"event": "ratelimit.cache_error"') == 1, log[-3000:]
    print(f"garbage redis: median {statistics.median(e for _, e, _ in general) * 1000:.1f} ms")
