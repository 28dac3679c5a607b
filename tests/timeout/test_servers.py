"""End to end: real gunicorn (sync, gthread) and uvicorn processes, PostgreSQL queries
cancelled at the deadline, nothing left running in ``pg_stat_activity``."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.servers import Server, serve

pytestmark = [pytest.mark.server, pytest.mark.postgres, pytest.mark.timeout(120)]

KINDS = ["gunicorn", "gthread", "uvicorn"]


def _admin_url() -> str:
    return os.environ.get("HARDENING_TEST_DATABASE_URL", "")


def _with_database(url: str, name: str, query: str = "") -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, query, ""))


def _connect(url: str):  # type: ignore[no-untyped-def]
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname=(parts.path or "/postgres").lstrip("/") or "postgres",
        autocommit=True,
        application_name="hardening-timeout-test-observer",
    )


@pytest.fixture(scope="module")
def database() -> Iterator[tuple[str, str]]:
    """A throwaway database (dropped afterwards) and this run's application_name."""
    name = f"hardening_timeout_{uuid.uuid4().hex[:10]}"
    app = f"hardening-timeout-{uuid.uuid4().hex[:10]}"
    with _connect(_admin_url()) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(_admin_url(), name, f"application_name={app}"), app
    finally:
        with _connect(_admin_url()) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def active_queries(app: str) -> list[str]:
    with _connect(_admin_url()) as observer:
        rows = observer.execute(
            "SELECT query FROM pg_stat_activity WHERE application_name = %s AND state = 'active'",
            [app],
        ).fetchall()
    return [str(row[0]) for row in rows]


def wait_until_idle(app: str, timeout: float = 3.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        running = active_queries(app)
        if not running or time.monotonic() > deadline:
            return running
        time.sleep(0.05)


def timed_get(server: Server, path: str) -> tuple[int, float, dict[str, object], dict[str, str]]:
    started = time.monotonic()
    reply = server.get(path, timeout=15)
    elapsed = time.monotonic() - started
    data = reply.json() if reply.body else {}
    assert isinstance(data, dict)
    return reply.status, elapsed, data, reply.headers


@pytest.mark.parametrize("kind", KINDS)
def test_deadline_end_to_end(kind: str, database: tuple[str, str], tmp_path: Path) -> None:
    url, app = database
    env = {"DATABASE_URL": url, "REQUEST_TIMEOUT": "1"}
    with serve(kind, env=env, workers=1, tmp_path=tmp_path, ready_path="/health/live") as server:
        # Normal requests are unaffected.
        status, _, data, _headers = timed_get(server, "/api/slow-db?ms=50")
        assert (status, data) == (200, {"slept_ms": 50}), server.output()

        # A query past the deadline: 504 on time, and cancelled in PostgreSQL.
        status, elapsed, data, headers = timed_get(server, "/api/slow-db?ms=10000")
        assert status == 504, server.output()
        assert elapsed < 1.5, elapsed
        assert data["error"] == "timeout"
        assert data["request_id"]
        assert headers.get("x-request-id") == data["request_id"]
        assert wait_until_idle(app) == []

        # The same (only) worker keeps serving.
        status, _, data, _headers = timed_get(server, "/api/slow-db?ms=10")
        assert (status, data) == (200, {"slept_ms": 10})

        # Python code past the deadline (ASGI: cancelled; WSGI: check_deadline()).
        status, elapsed, data, headers = timed_get(server, "/api/slow?ms=10000")
        assert status == 504, server.output()
        assert elapsed < 1.5, elapsed
        status, _, data, _headers = timed_get(server, "/api/slow?ms=20")
        assert (status, data) == (200, {"slept_ms": 20})

        # Bad input is a 400, never a 500.
        status, _, data, _headers = timed_get(server, "/api/slow?ms=abc")
        assert (status, data["error"]) == (400, "invalid_ms")
        status, _, data, _headers = timed_get(server, "/api/slow-db?ms=999999")
        assert (status, data["error"]) == (400, "invalid_ms")
