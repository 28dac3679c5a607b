"""The database down: 503 JSON with Retry-After (not 500), counted, under real servers."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client, override_settings

from hardening.errors import database_unavailable
from hardening.observability.metrics import DATABASE_UNAVAILABLE
from hardening.outage import database_outage
from tests.helpers.services import PgCluster, garbage_server
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


UNAVAILABLE = "hardening_database_unavailable_total"
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
        before = counter(server.get("/metrics").body.decode(), UNAVAILABLE)
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
    print(f"MEASURED postgres down {kind}: 3 requests answered 503 in {elapsed:.2f} s; "
          f"recovery {recovery:.2f} s after the restart")  # fmt: skip
    assert live == 200
    assert counter(metrics, UNAVAILABLE) == before + len(down)  # each 503 counted
    # One WARNING when the outage starts (with a request ID) and one when it ends; no
    # ERROR line with a traceback per request.
    assert "Service Unavailable" not in log and "Traceback" not in log, log[-3000:]
    assert log.count("database unavailable: answering 503") == 1, log[-3000:]
    assert log.count("database reachable again") == 1, log[-3000:]


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
    print(f"MEASURED postgres garbage gunicorn: 503 in {elapsed * 1000:.0f} ms")


def counter(metrics: str, name: str) -> float:
    """The value of an unlabelled counter in Prometheus text."""
    for line in metrics.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not exported")


@override_settings(ROOT_URLCONF="tests.observability.urls")
def test_an_outage_is_one_warning_not_an_error_per_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each 503 is counted; the outage is logged once at WARNING with the first request's
    ID, and once more when a connection is made again (Django's per-response ERROR
    "Service Unavailable" line with its traceback is not written)."""
    from django.db import connection
    from django.db.backends.signals import connection_created

    database_outage.reset()  # an earlier test's outage may still be open in this process
    client = Client(raise_request_exception=False)
    before = DATABASE_UNAVAILABLE._value.get()
    with caplog.at_level(logging.DEBUG):
        for n in range(3):
            reply = client.get("/test/database-down", headers={"X-Request-ID": f"db-down-{n}"})
            assert reply.status_code == 503
            assert reply.json()["error"] == "database_unavailable"
        connection_created.send(sender=type(connection), connection=connection)  # back
        client.get("/test/database-down", headers={"X-Request-ID": "db-down-again"})
    assert DATABASE_UNAVAILABLE._value.get() == before + 4
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert "Traceback" not in caplog.text
    lines = [r for r in caplog.records if r.name == "hardening.database"]
    assert [r.levelno for r in lines] == [logging.WARNING] * 3, caplog.text
    assert "unavailable" in lines[0].getMessage()
    assert lines[0].request_id == "db-down-0"  # type: ignore[attr-defined]
    assert "reachable again" in lines[1].getMessage()
    assert "3 requests answered 503" in lines[1].getMessage()
    assert lines[2].request_id == "db-down-again"  # type: ignore[attr-defined]
