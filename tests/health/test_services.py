"""The disposable-service fixtures: skip where a service cannot run, unless required."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from tests.helpers import services


@contextlib.contextmanager
def missing() -> Iterator[None]:
    raise FileNotFoundError("redis-server not found")
    yield  # pragma: no cover


def test_a_missing_binary_skips_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HARDENING_TEST_REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="redis-server not found"):
        next(services.disposable(missing(), "Redis", "redis-server"))
    with pytest.raises(pytest.skip.Exception, match="needs initdb"):
        services.unavailable("needs initdb")


def test_a_missing_binary_fails_when_services_are_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """HARDENING_TEST_REQUIRE_SERVICES=1 (CI): a fault test that cannot start its private
    Redis or PostgreSQL fails instead of passing silently as skipped."""
    monkeypatch.setenv("HARDENING_TEST_REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="HARDENING_TEST_REQUIRE_SERVICES"):
        next(services.disposable(missing(), "Redis", "redis-server"))
    with pytest.raises(pytest.fail.Exception, match="needs initdb"):
        services.unavailable("needs initdb")
