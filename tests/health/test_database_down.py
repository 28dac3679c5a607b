"""The database down: 503 JSON with Retry-After (not 500), counted, under real servers."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.db import InterfaceError, OperationalError

from hardening.errors import database_unavailable
from tests.health.services import PgCluster, garbage_server
from tests.servers import Server, run_until_exit, serve


def wrapped(cause: BaseException) -> OperationalError:
    try:
        raise OperationalError(str(cause)) from cause
    except OperationalError as exc:
        return exc


def test_which_errors_mean_the_database_is_unavailable() -> None:
    errors = psycopg.errors
    assert database_unavailable(wrapped(psycopg.OperationalError("connection refused")))
    assert database_unavailable(wrapped(errors.TooManyConnections()))
    assert database_unavailable(wrapped(errors.AdminShutdown()))
    assert database_unavailable(InterfaceError("connection already closed"))
    assert not database_unavailable(wrapped(errors.QueryCanceled()))  # statement timeout
    assert not database_unavailable(wrapped(errors.DeadlockDetected()))
    assert not database_unavailable(OperationalError("sqlite: database is locked"))
    assert not database_unavailable(ValueError())
    assert not database_unavailable(None)


AUTH = {
    "method": "POST",
    "data": json.dumps({"username": "nobody", "password": "not-a-password-0"}).encode(),
    "headers": {"Content-Type": "application/json"},
}


def requests(server: Server) -> dict[str, tuple[int, dict[str, str], bytes]]:
    found = {}
    for name, path, kwargs in [
        ("django view", "/api/slow-db?ms=1", {}),
        ("drf view", "/api/auth/token", AUTH),
        ("middleware (session)", "/api/me", {"headers": {"Cookie": "sessionid=" + "a" * 32}}),
    ]:
        reply = server.request(path, timeout=10, **kwargs)  # type: ignore[arg-type]
        found[name] = (reply.status, reply.headers, reply.body)
    return found


@pytest.mark.server
@pytest.mark.parametrize("kind", ["gunicorn", "uvicorn"])
def test_database_stopped_answers_503_json_with_retry_after(
    kind: str, pg: PgCluster, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": pg.url, "RATE_LIMIT_AUTH": "1000/m", "RATE_LIMIT_IP": "1000/m"}
    manage = [sys.executable, "example_project/manage.py"]
    migrate = run_until_exit([*manage, "migrate", "--noinput"], env=env, timeout=120)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    with serve(kind, env=env, tmp_path=tmp_path, ready_path="/health/live") as server:
        assert server.get("/api/slow-db?ms=1").status == 200
        pg.stop()
        started = time.monotonic()
        down = requests(server)
        elapsed = time.monotonic() - started
        live = server.get("/health/live").status
        metrics = server.get("/metrics").body.decode()
        pg.start()
        restarted = time.monotonic()
        while server.get("/api/slow-db?ms=1").status != 200:  # recovers by itself
            assert time.monotonic() < restarted + 20, "no recovery"
            time.sleep(0.05)
        recovery = time.monotonic() - restarted
        log = server.output()
    for name, (status, headers, body) in down.items():
        assert status == 503, (name, status, body[:300], log[-3000:])
        assert headers["retry-after"] == "5", name
        data = json.loads(body)
        assert data["error"] == "database_unavailable", (name, data)
        assert set(data) == {"error", "detail", "request_id"}
        assert b"Traceback" not in body and str(pg.port).encode() not in body
    # Refused connections fail fast; under uvicorn the example's pool first waits for a
    # connection for DB_POOL_TIMEOUT (2 s) per request.
    assert elapsed < (3 if kind == "gunicorn" else 3 * 2.5), elapsed
    print(f"{kind}: 3 requests, database stopped: {elapsed:.2f} s; recovery {recovery:.2f} s")
    assert live == 200
    assert "hardening_database_unavailable_total" in metrics


@pytest.mark.server
def test_a_database_port_answering_garbage_is_503(tmp_path: Path) -> None:
    with garbage_server() as port:
        env = {"DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/postgres"}
        with serve("gunicorn", env=env, tmp_path=tmp_path, ready_path="/health/live") as server:
            started = time.monotonic()
            reply = server.get("/api/slow-db?ms=1")
            elapsed = time.monotonic() - started
            ready = server.get("/health/ready")
    assert reply.status == 503, reply.body[:300]
    assert json.loads(reply.body)["error"] == "database_unavailable"
    assert ready.status == 503
    assert elapsed < 2, elapsed
    print(f"garbage database: 503 in {elapsed * 1000:.0f} ms")
