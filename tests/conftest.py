from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.services import RedisServer, disposable, redis_server
from tests.servers import SERVICES_REQUIRED, required

#: Shared fixtures: ``clock`` (the one fake clock, tests/helpers/clock.py).
pytest_plugins = ["tests.helpers.clock"]

REQUIRED = required(SERVICES_REQUIRED)

_SERVICES = {
    "postgres": (
        "HARDENING_TEST_DATABASE_URL",
        "set HARDENING_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test to run",
    ),
    "redis": (
        "HARDENING_TEST_REDIS_URL",
        "set HARDENING_TEST_REDIS_URL=redis://127.0.0.1:6379/0 to run",
    ),
}


def service_available(name: str) -> bool:
    variable = _SERVICES[name][0]
    if name == "postgres":
        return os.environ.get(variable, "").startswith(("postgres", "psql", "pgsql"))
    return bool(os.environ.get(variable))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for name, (_variable, reason) in _SERVICES.items():
            if item.get_closest_marker(name) is None or service_available(name):
                continue
            if REQUIRED:
                item.add_marker(pytest.mark.usefixtures("_missing_service_" + name), append=False)
            else:
                item.add_marker(pytest.mark.skip(reason=f"needs {name}: {reason}"))


@pytest.fixture
def _missing_service_postgres() -> None:
    pytest.fail("PostgreSQL is required here (HARDENING_TEST_REQUIRE_SERVICES is set)")


@pytest.fixture
def _missing_service_redis() -> None:
    pytest.fail("Redis is required here (HARDENING_TEST_REQUIRE_SERVICES is set)")


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    """A disposable redis-server of the test's own (skipped without ``redis-server``, a
    failure under HARDENING_TEST_REQUIRE_SERVICES=1); ``.stop()`` takes it down mid-test."""
    yield from disposable(redis_server(), "redis-server", "redis-server")


@pytest.fixture
def events() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """The audit events (``security_event`` signal) sent during the test: (event, fields)."""
    from hardening.observability.audit import security_event

    seen: list[tuple[str, dict[str, Any]]] = []

    def receiver(sender: object, event: str, fields: dict[str, Any], **kw: object) -> None:
        seen.append((event, fields))

    security_event.connect(receiver)
    yield seen
    security_event.disconnect(receiver)


def _real_clock() -> tuple[object, object, bool]:
    from hardening import clock

    return clock.now, clock.monotonic, clock.replaced


_REAL_CLOCK = _real_clock()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After every fixture is torn down: a test that left a fake clock in hardening.clock
    would move time for every later test (a token's future ``iat`` is then in the past):
    that test errors, and the real clock is put back."""
    result = yield
    if _real_clock() != _REAL_CLOCK:
        from hardening import clock

        clock.now, clock.monotonic, clock.replaced = _REAL_CLOCK  # type: ignore[assignment]
        raise AssertionError(f"{item.nodeid} left a fake clock in hardening.clock")
    return result


@pytest.fixture(autouse=True)
def _fresh_local_caches() -> Iterator[None]:
    """Every test starts with empty in-process caches: rate-limit windows and bans that an
    earlier test left on 127.0.0.1 in the local-memory cache would answer 429/403 in a later
    one (shared Redis is left alone: tests that use it clean their own keys)."""
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    yield
    for cache in caches.all(initialized_only=True):
        if isinstance(cache, LocMemCache):
            cache.clear()


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    """Every test starts with closed circuit breakers (hardening.breaker is per process)."""
    from hardening.breaker import reset_all

    reset_all()
    yield
    reset_all()


@pytest.fixture(autouse=True)
def _fresh_request_threads() -> Iterator[None]:
    """Every test starts without pooled ASGI request threads (hardening.timeout.runner):
    a thread reused from an earlier test would carry that test's database connection into a
    test that may not touch the database (pytest-django refuses it)."""
    from hardening.timeout import runner

    def drop() -> None:
        with runner._idle_lock:
            idle = list(runner._idle)
            runner._idle.clear()
        for executor in idle:
            executor.shutdown(wait=False)

    drop()
    yield
    drop()
