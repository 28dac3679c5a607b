"""End to end: Redis paused with SIGSTOP (hung, not refused) under real servers.

Without the circuit breaker every rate-limited request waited for the full socket
timeout; with it only the first request per worker does: the breaker probes Redis again
from a background thread, so no later request waits on the hung socket.
"""

from __future__ import annotations

import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hardening.breaker import MAXIMUM
from hardening.ratelimit.lease import LEASE_SECONDS
from tests.helpers.ratelimit import AUTH_POST
from tests.helpers.services import RedisServer, children, garbage_server
from tests.servers import Server, serve

pytestmark = [pytest.mark.server]

# The example's default is 0.25 s; 1 s here keeps a request that waits on the socket far
# apart from one that is merely slow on a loaded machine.
SOCKET_TIMEOUT = 1.0


# Seconds of requests while Redis is paused: long enough for background probes (0.5 s after
# the first timeout, then 1 s after each failed one); before, each probe was a request.
OUTAGE = 4.0
# Recovery: the prober may be asleep for up to the longest interval, or waiting on a probe.
RECOVERY = MAXIMUM + SOCKET_TIMEOUT + 1


def worker_pid(kind: str, server: Server) -> int:
    """The process that serves requests: gunicorn's worker, not its arbiter (uvicorn with
    one worker serves in its own process)."""
    if kind == "uvicorn":
        return server.process.pid
    workers = children(server.process.pid)
    assert len(workers) == 1, workers
    return workers[0]


def thread_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def burst(server: Server) -> list[tuple[int, float, bool]]:
    with ThreadPoolExecutor(max_workers=32) as pool:  # 64 requests, 32 in flight
        return list(pool.map(lambda _: timed(server), range(64)))


def timed(server: Server, path: str = "/api/me", **kwargs: object) -> tuple[int, float, bool]:
    start = time.monotonic()
    reply = server.request(path, timeout=10, **kwargs)  # type: ignore[arg-type]
    return reply.status, time.monotonic() - start, "ratelimit-policy" in reply.headers


@pytest.mark.parametrize("kind", ["gunicorn", "gthread", "uvicorn"])
def test_hung_redis_costs_one_timeout_then_requests_are_answered_at_once(
    kind: str, redis: RedisServer, tmp_path: Path
) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": f"{redis.url}?socket_timeout={SOCKET_TIMEOUT}"
        f"&socket_connect_timeout={SOCKET_TIMEOUT}",
        "RATE_LIMIT_IP": "100000/m",
        "RATE_LIMIT_AUTH": "100000/m",
        "RATE_LIMIT_HEADERS": "true",
    }
    with serve(kind, env=env, tmp_path=tmp_path, ready_path="/health/live") as server:
        status, _, counted = timed(server)
        assert status in (401, 403) and counted  # Redis answers: RateLimit headers
        worker = worker_pid(kind, server)
        threads_before = thread_count(worker)
        baseline = burst(server)  # the same burst with Redis answering
        healthy = [timed(server)[1] for _ in range(20)]  # one at a time, Redis answering
        redis.pause()
        paused = time.monotonic()
        during: list[tuple[int, float, bool]] = []
        starts: list[float] = []  # seconds after the pause
        while time.monotonic() - paused < OUTAGE and len(during) < 3000:
            starts.append(time.monotonic() - paused)
            during.append(timed(server))
        concurrent = burst(server)
        threads = thread_count(worker)
        auth = [timed(server, "/api/auth/token", **AUTH_POST) for _ in range(5)]
        redis.resume()
        resumed = time.monotonic()
        while True:  # recovered: the limiter counts in Redis again (headers are back)
            status, _, counted = timed(server)
            if counted:
                break
            assert time.monotonic() - resumed < RECOVERY, f"no recovery within {RECOVERY} s"
            time.sleep(0.02)
        recovery = time.monotonic() - resumed
        log = server.output()
    elapsed = [e for _, e, _ in during]
    assert {s for s, _, _ in during} == {status}, log[-3000:]  # general routes fail open
    # A lease the worker holds (hardening.ratelimit.lease) admits for at most LEASE_SECONDS
    # without Redis, with its RateLimit headers; the first request after it waits for the
    # socket timeout and opens the breaker.
    first = next(i for i, e in enumerate(elapsed) if e >= SOCKET_TIMEOUT * 0.8)
    assert all(c for _, _, c in during[:first]), during[:first]
    assert first == 0 or starts[first - 1] < LEASE_SECONDS + 0.5, starts[: first + 1]
    assert not any(c for _, _, c in during[first:])
    # Only that request waits for the socket timeout; the probes (at 0.5, 1.5 and 3.5 s)
    # run in the background, so no later request comes near it.
    assert max(elapsed[first + 1 :]) < SOCKET_TIMEOUT / 2, sorted(elapsed)[-5:]
    # As fast as with Redis answering (on a loaded machine both are slower alike).
    usual_median = statistics.median(healthy)
    assert statistics.median(elapsed) < 2 * usual_median + 0.05, (elapsed, usual_median)
    assert {s for s, _, _ in concurrent} == {status}
    # No queueing behind timeouts: the burst is no slower than with Redis answering (a sync
    # worker serves the 64 one after the other, so that is the yardstick, not a constant).
    slowest, usual = max(e for _, e, _ in concurrent), max(e for _, e, _ in baseline)
    assert slowest < 2 * usual + SOCKET_TIMEOUT / 2, (slowest, usual)
    # At most one pooled request thread per request in flight (32), a few executor threads
    # and one prober: bounded by the concurrency, not the number of requests (was 3 -> 222).
    assert threads < threads_before + 32 + 24, (threads_before, threads)
    assert [s for s, _, _ in auth] == [503] * 5  # fail closed
    assert max(e for _, e, _ in auth) < SOCKET_TIMEOUT / 2
    # One audit line and one breaker WARNING per outage, one on recovery: not per request.
    assert log.count('"event": "ratelimit.cache_error"') == 1, log[-3000:]
    assert log.count("skipping it, probing again") == 1, log[-3000:]
    assert log.count("recovered after") == 1, log[-3000:]
    median, waited = statistics.median(elapsed) * 1000, elapsed[first] * 1000
    later = max(elapsed[first + 1 :]) * 1000
    print(f"MEASURED redis hung {kind}: {first} requests from a lease, then one of "
          f"{waited:.0f} ms, then median {median:.1f} ms, "
          f"max {later:.0f} ms over {len(elapsed)} requests in {OUTAGE:.0f} s; recovery "
          f"{recovery:.2f} s; 64 requests 32 in flight: max {slowest * 1000:.0f} ms "
          f"({usual * 1000:.0f} ms with Redis up); worker threads {threads_before} -> "
          f"{threads}")  # fmt: skip


@pytest.mark.parametrize("kind", ["gunicorn", "uvicorn"])
def test_stopped_redis_fails_open_and_closed_at_once_and_recovers_after_a_restart(
    kind: str, redis: RedisServer, tmp_path: Path
) -> None:
    """Redis down (connections refused), then started again on the same port."""
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": redis.url,  # the example's 0.25 s socket timeouts
        "RATE_LIMIT_IP": "100000/m",
        "RATE_LIMIT_AUTH": "100000/m",
        "RATE_LIMIT_HEADERS": "true",
    }
    with serve(kind, env=env, tmp_path=tmp_path, ready_path="/health/live") as server:
        status, _, counted = timed(server)
        assert counted
        healthy = [timed(server)[1] for _ in range(20)]  # one at a time, Redis answering
        redis.stop()
        down = [timed(server) for _ in range(30)]
        auth = [timed(server, "/api/auth/token", **AUTH_POST) for _ in range(5)]
        redis.start()
        restarted = time.monotonic()
        while not timed(server)[2]:  # the background probe finds Redis again
            assert time.monotonic() - restarted < MAXIMUM + 2, "no recovery"
            time.sleep(0.02)
        recovery = time.monotonic() - restarted
        log = server.output()
    elapsed = [e for _, e, _ in down]
    assert {s for s, _, _ in down} == {status}, log[-3000:]  # fail open
    assert [s for s, _, _ in auth] == [503] * 5  # fail closed
    # Refused: no request waits for the 0.25 s socket timeout, not even the first (measured
    # against the same requests with Redis answering, so a loaded machine does not count).
    assert max(elapsed) < max(healthy) + 0.25, (elapsed, healthy)
    assert log.count('"event": "ratelimit.cache_error"') == 1, log[-3000:]
    assert recovery < MAXIMUM + 2, recovery
    median = statistics.median(elapsed) * 1000
    print(f"MEASURED redis down {kind}: first {elapsed[0] * 1000:.0f} ms, median {median:.1f} ms, "
          f"max {max(elapsed) * 1000:.0f} ms over 30 requests; auth 503 x5; recovery "
          f"{recovery:.2f} s after the restart")  # fmt: skip


def test_a_redis_port_answering_garbage_fails_open_and_closed_at_once(tmp_path: Path) -> None:
    with garbage_server() as port:
        env = {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "CACHE_URL": f"redis://127.0.0.1:{port}/0",
        }
        with serve("gunicorn", env=env, tmp_path=tmp_path, ready_path="/health/live") as server:
            general = [timed(server) for _ in range(10)]
            auth = [timed(server, "/api/auth/token", **AUTH_POST) for _ in range(3)]
            ready = server.get("/health/ready")
            log = server.output()
    assert {s for s, _, _ in general} <= {401, 403}, log[-3000:]  # fail open
    assert [s for s, _, _ in auth] == [503] * 3  # fail closed
    assert max(e for _, e, _ in general) < 1.0
    cache = ready.json()["checks"]["cache"]  # type: ignore[index]  # (sqlite is unmigrated here)
    assert cache["status"] == "degraded", cache
    assert log.count('"event": "ratelimit.cache_error"') == 1, log[-3000:]
    times = [e * 1000 for _, e, _ in general]
    median, worst = statistics.median(times), max(times)
    print(f"MEASURED redis garbage gunicorn: median {median:.1f} ms, max {worst:.0f} ms")
