"""The account lockout (hardening.mfa.lockout) at its edges: a counter expiring between
``add()`` and ``incr()``, a cache that fails while counting (logged, never raised into a
login), a username no database can look up, and the backend refusing without a request."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.cache import caches
from django.core.exceptions import PermissionDenied

from hardening.mfa import lockout
from hardening.mfa.conf import conf
from tests.helpers.clock import FakeClock
from tests.helpers.mfa import PASSWORD

pytestmark = pytest.mark.django_db


def count_key(username: str) -> str:
    rate = conf.HARDENING_LOCKOUT
    assert rate is not None
    return lockout._keys(username, rate.seconds)[0]


def test_a_counter_expiring_between_add_and_incr_restarts_at_one(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = caches["default"]
    lockout.record_failure("alice")
    real_incr = cache.incr

    def incr(key: str, delta: int = 1, version: int | None = None) -> int:
        cache.delete(key, version=version)  # the window's counter expires just now
        return real_incr(key, delta, version)

    monkeypatch.setattr(cache, "incr", incr)
    lockout.record_failure("alice")
    assert cache.get(count_key("alice")) == 1  # counted, not lost, and no error
    assert lockout.blocked_for("alice") == 0


def test_a_cache_failing_while_counting_is_logged_not_raised(
    user: Any, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> bool:
        raise RuntimeError("a bug in the cache backend")

    monkeypatch.setattr(caches["default"], "add", broken)
    with caplog.at_level(logging.DEBUG, logger="hardening.lockout"):
        assert authenticate(None, username="alice", password="wrong") is None  # no 500
    logged = [r for r in caplog.records if r.name == "hardening.lockout"]
    assert [r.getMessage() for r in logged] == ["account lockout counters unavailable"]
    assert logged[0].levelno == logging.ERROR  # not an outage: a bug, with its traceback


@pytest.mark.parametrize("name", ["alice\x00", "\ud800alice"])
def test_an_unusable_username_ends_authenticate_before_any_query(
    user: Any, name: str, django_assert_num_queries: Any
) -> None:
    with pytest.raises(PermissionDenied):
        lockout.LockoutBackend().authenticate(None, username=name, password=PASSWORD)
    with django_assert_num_queries(0):  # PostgreSQL would raise DataError on a NUL
        assert authenticate(None, username=name, password=PASSWORD) is None


def test_a_locked_account_is_refused_without_a_request(user: Any, clock: FakeClock) -> None:
    for _ in range(5):
        lockout.record_failure("alice")
    assert lockout.blocked_for("alice") > 0
    with pytest.raises(PermissionDenied, match="account locked"):
        lockout.LockoutBackend().authenticate(None, username="alice", password=PASSWORD)
    assert authenticate(None, username="alice", password=PASSWORD) is None  # even the right one
