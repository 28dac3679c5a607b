from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hardening.health import runner
from tests.helpers.services import (
    PgCluster,
    disposable,
    pg_cluster,
    wait_for,
)

PG_ALIAS = "health_pg"


@pytest.fixture(autouse=True)
def _fresh_runner() -> Iterator[None]:
    runner.reset()
    yield
    runner.reset()


@pytest.fixture
def cache_seconds(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """``cache_seconds(s)``: readiness reuses a report for ``s`` seconds (the constant
    hardening.health.runner.CACHE_SECONDS, 1 s outside the tests that set it)."""

    def set_seconds(seconds: float) -> None:
        monkeypatch.setattr(runner, "CACHE_SECONDS", seconds)
        runner.reset()

    return set_seconds


@pytest.fixture
def uncached(cache_seconds: Callable[[float], None]) -> None:
    """Every probe evaluates every check (no result cache)."""
    cache_seconds(0.0)


@pytest.fixture(scope="session")
def _pg_session() -> Iterator[PgCluster]:
    yield from disposable(pg_cluster(), "PostgreSQL", "postgresql")


@pytest.fixture
def pg(_pg_session: PgCluster) -> Iterator[PgCluster]:
    """The disposable cluster, running and not paused (a test may stop or pause it)."""
    _pg_session.resume()
    if not (_pg_session.data / "postmaster.pid").exists():
        _pg_session.start()
    yield _pg_session
    _pg_session.resume()
    # Blocked probe threads finish once the cluster answers again.
    wait_for(lambda: not runner.get_runner().in_flight(), what="probe threads idle")


@pytest.fixture
def pg_alias(pg: PgCluster, django_db_blocker: Any) -> Iterator[str]:
    """A database alias pointing at the disposable cluster (not the test database)."""
    from django.db import connections

    configured = connections.configure_settings({"default": {}, PG_ALIAS: pg.database()})
    connections.settings[PG_ALIAS] = configured[PG_ALIAS]
    with django_db_blocker.unblock():
        yield PG_ALIAS
        runner.reset()
    connections.settings.pop(PG_ALIAS, None)
