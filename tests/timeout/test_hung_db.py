"""Issue 14 item 1: a hung PostgreSQL (TCP open, nothing answered) does not defeat the
deadline.  Real gunicorn sync/gthread and uvicorn behind a proxy the test switches to
"hang": DB routes answer 504 at the deadline, routes without the database keep answering
from the same worker (gunicorn's --timeout never fires), the failed cancel is logged at
WARNING, and everything works again once the database answers."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.servers import Server, serve, unavailable
from tests.timeout.pgproxy import HangingProxy, hanging_proxy

pytestmark = [pytest.mark.server, pytest.mark.postgres, pytest.mark.timeout(180)]

DEADLINE = 1.0
SLACK = 0.5
HEALTH_TIMEOUT = 1.0


def _admin() -> str:
    return os.environ.get("HARDENING_TEST_DATABASE_URL", "")


def _run(sql: str) -> None:
    import psycopg

    parts = urlsplit(_admin())
    with psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def proxied() -> Iterator[tuple[str, HangingProxy]]:
    if not _admin():
        unavailable("needs HARDENING_TEST_DATABASE_URL")
    name = f"hardening_hung_{uuid.uuid4().hex[:10]}"
    _run(f'CREATE DATABASE "{name}"')
    parts = urlsplit(_admin())
    try:
        with hanging_proxy(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
            netloc = f"{parts.username or 'postgres'}@127.0.0.1:{proxy.port}"
            yield urlunsplit((parts.scheme, netloc, "/" + name, "", "")), proxy
    finally:
        _run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def timed(server: Server, path: str) -> tuple[int, float, bytes]:
    started = time.monotonic()
    reply = server.get(path, timeout=15)
    return reply.status, time.monotonic() - started, reply.body


def pid(server: Server) -> int:
    status, elapsed, body = timed(server, "/t/pid")
    assert status == 200, body
    assert elapsed < SLACK, elapsed
    return int(body.split(b":")[1].strip(b" }"))


@pytest.mark.parametrize("kind", ["gunicorn", "gthread", "uvicorn", "uvicorn-pool"])
def test_hung_database_gets_504_at_the_deadline(
    kind: str, proxied: tuple[str, HangingProxy], tmp_path: Path
) -> None:
    url, proxy = proxied
    pooled = kind == "uvicorn-pool"  # the example's default under ASGI (hardening.E070)
    kind = kind.removesuffix("-pool")
    env = {
        "DB_POOL": "true" if pooled else "false",
        "DJANGO_SETTINGS_MODULE": "tests.timeout.server_settings",
        "DATABASE_URL": url,
        "REQUEST_TIMEOUT": str(DEADLINE),
        "HEALTH_TIMEOUT": str(HEALTH_TIMEOUT),
        "HEALTH_CACHE_SECONDS": "0",
    }
    # gunicorn --timeout 4: a sync worker stuck for 4 s would be killed (new PID).
    with serve(
        kind, env=env, workers=1, timeout=4, tmp_path=tmp_path, ready_path="/t/pid"
    ) as server:
        assert timed(server, "/api/slow-db?ms=10")[0] == 200, server.output()[-2000:]
        worker = pid(server)
        proxy.hang()
        label = f"{kind}{' with the pool' if pooled else ''}"
        try:
            times = []
            for _ in range(2):  # a query on the open connection, then a fresh connect
                status, elapsed, body = timed(server, "/api/slow-db?ms=10")
                times.append(elapsed)
                assert (status, round(elapsed, 2)) == (504, pytest.approx(DEADLINE, abs=SLACK)), (
                    body,
                    server.output()[-3000:],
                )
                assert b'"error": "timeout"' in body
            # Routes without the database keep answering, past gunicorn's --timeout,
            # from the same worker.
            end = time.monotonic() + 5
            while time.monotonic() < end:
                assert pid(server) == worker
                time.sleep(0.2)
            ready, ready_time, ready_body = timed(server, "/health/ready")
            assert ready == 503, ready_body  # the database check times out (HEALTH_TIMEOUT)
            assert ready_time < HEALTH_TIMEOUT + SLACK + 1, ready_time
        finally:
            proxy.resume()
            resumed = time.monotonic()
        log = server.output()
        # Every timed-out request is a WARNING audit event.  Where a query was running on
        # the hung socket when the watchdog looked, the failed cancel is its own WARNING:
        # always under gthread; a sync worker's SIGALRM usually ends the query first, and
        # under uvicorn the hang may sit in a pool checkout or a fresh connect instead.
        assert '"event": "timeout.exceeded"' in log
        if kind == "gthread":
            assert "did not answer the cancel" in log
        # Recovery: the database answers again (bounded poll).
        end = time.monotonic() + 20
        while timed(server, "/api/slow-db?ms=10")[0] != 200:
            assert time.monotonic() < end, server.output()[-3000:]
            time.sleep(0.1)
        recovery = time.monotonic() - resumed
        assert pid(server) == worker
        print(f"MEASURED postgres hung (TCP proxy) {label}: 504 in {times[0]:.2f} s, then "
              f"{times[1]:.2f} s (deadline {DEADLINE:g} s); route without DB 200 from the same "
              f"worker for 5 s; /health/ready 503 in {ready_time:.2f} s; DB route 200 again "
              f"{recovery:.2f} s after the proxy resumed")  # fmt: skip
