"""Database connections under ASGI: a pool bounds them (hardening.E070 otherwise)."""

from __future__ import annotations

import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.test import override_settings

from tests.helpers.checks import check_error_codes
from tests.helpers.services import PgCluster, wait_for
from tests.servers import Server, run_until_exit, serve

pytestmark = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")

PERSISTENT = {"ENGINE": "django.db.backends.postgresql", "NAME": "x", "CONN_MAX_AGE": 60}
POOLED = {"ENGINE": "django.db.backends.postgresql", "NAME": "x", "OPTIONS": {"pool": True}}


@pytest.mark.parametrize(
    ("environment", "level"), [("production", "ERROR"), ("development", "WARNING")]
)
def test_persistent_connections_without_a_pool_under_asgi(
    monkeypatch: pytest.MonkeyPatch, environment: str, level: str
) -> None:
    with override_settings(HARDENING_ENVIRONMENT=environment, DATABASES={"default": PERSISTENT}):
        assert "hardening.E070" not in check_error_codes()  # WSGI: fine
        monkeypatch.setitem(sys.modules, "uvicorn", sys.modules["json"])  # served by uvicorn
        assert check_error_codes()["hardening.E070"] == level
    with override_settings(HARDENING_ENVIRONMENT=environment, DATABASES={"default": POOLED}):
        assert "hardening.E070" not in check_error_codes()
    zero = {**PERSISTENT, "CONN_MAX_AGE": 0}
    with override_settings(HARDENING_ENVIRONMENT=environment, DATABASES={"default": zero}):
        assert "hardening.E070" not in check_error_codes()


def test_an_asgi_only_project_is_detected_without_a_server() -> None:
    with override_settings(
        DATABASES={"default": PERSISTENT}, WSGI_APPLICATION=None, ASGI_APPLICATION="x.asgi.app"
    ):
        assert "hardening.E070" in check_error_codes()


def backends(pg: PgCluster, name: str) -> int:
    with psycopg.connect(pg.url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [name]
        ).fetchone()
    assert row is not None
    return int(row[0])


def burst(server: Server, n: int, rounds: int) -> list[int]:
    statuses: list[int] = []
    for _ in range(rounds):
        start = threading.Barrier(n, timeout=30)

        def one(_: int, start: threading.Barrier = start) -> int:
            start.wait()
            return server.get("/api/slow-db?ms=50", timeout=30).status

        with ThreadPoolExecutor(max_workers=n) as pool:
            statuses += list(pool.map(one, range(n)))
    return statuses


@pytest.mark.server
@pytest.mark.parametrize("pooled", [True, False], ids=["pool", "conn-max-age"])
def test_uvicorn_burst_leaves_at_most_the_pool_size_of_backends(
    pg: PgCluster, tmp_path: Path, pooled: bool
) -> None:
    """With the pool: at most its size of backends.  Without it (``CONN_MAX_AGE=60``, what
    hardening.E070 refuses in production): one idle backend per thread that served."""
    name = f"hardening-pool-{uuid.uuid4().hex[:8]}"
    env: dict[str, Any] = {
        "DATABASE_URL": f"{pg.url}?application_name={name}",
        "DJANGO_ENV": "development",  # E070 is an Error in production only
        "DB_POOL": "true" if pooled else "false",
        "CONN_MAX_AGE": "60",
        "DB_POOL_MAX_SIZE": "4",
        "DB_POOL_TIMEOUT": "10",
        "RATE_LIMIT_IP": "100000/m",
        "RATE_LIMIT_GLOBAL": "100000/m",
        "REQUEST_TIMEOUT": "60",
    }
    manage = [sys.executable, "example_project/manage.py"]
    migrate = run_until_exit([*manage, "migrate", "--noinput"], env=env, timeout=120)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    with serve("uvicorn", env=env, tmp_path=tmp_path, ready_path="/health/live") as server:
        statuses = burst(server, 16, 3)
        log = server.output()
        after = backends(pg, name)
        how = "pool max 4" if pooled else "CONN_MAX_AGE=60, no pool"
        print(f"MEASURED uvicorn {how}: {after} backends after 3 bursts of 16")
    assert statuses == [200] * 48, (statuses, log[-3000:])
    if pooled:
        assert 1 <= after <= 4, after  # the pool's max_size (the health thread uses it too)
    else:
        assert after > 4, after  # one per thread that served a request
    wait_for(lambda: backends(pg, name) == 0, what="backends closed with the server")
