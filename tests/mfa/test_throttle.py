"""Per-user and per-IP failure counters: fixed windows, fail closed, on LocMem and Redis."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import caches
from django.test import override_settings

from hardening.mfa import throttle
from tests.helpers.clock import FakeClock


def check_limits(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(throttle, "USER_MAX_FAILURES", 3)
    monkeypatch.setattr(throttle, "IP_MAX_FAILURES", 5)
    for _ in range(3):
        assert throttle.blocked_for("u1", "10.0.0.1") == 0
        throttle.record_failure("u1", "10.0.0.1")
    wait = throttle.blocked_for("u1", "10.0.0.1")
    assert 1 <= wait <= 900
    # Another user from the same IP still has room until the IP limit.
    assert throttle.blocked_for("u2", "10.0.0.1") == 0
    throttle.record_failure("u2", "10.0.0.1")
    throttle.record_failure("u2", "10.0.0.1")
    assert throttle.blocked_for("u3", "10.0.0.1") > 0
    assert throttle.blocked_for("u3", "10.0.0.2") == 0
    # A success resets the user's counter, not the IP's.
    throttle.reset_user("u1")
    assert throttle.blocked_for("u1", "10.0.0.9") == 0
    assert throttle.blocked_for("u1", "10.0.0.1") > 0
    # The window ends.
    clock.advance(wait)
    assert throttle.blocked_for("u1", "10.0.0.1") == 0


def test_limits_locmem(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    check_limits(clock, monkeypatch)


@pytest.mark.redis
def test_limits_redis(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    with override_settings(HARDENING_CACHE="redis"):
        check_limits(clock, monkeypatch)


def test_cache_failure_fails_closed(clock: FakeClock) -> None:
    broken = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "broken": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        },
    }
    with override_settings(CACHES=broken, HARDENING_CACHE="broken"):
        assert throttle.blocked_for("u1", "10.0.0.1") > 0
        throttle.record_failure("u1", "10.0.0.1")  # logged, never raised


@override_settings(HARDENING_CACHE="missing")
def test_unknown_cache_alias_fails_closed(clock: FakeClock) -> None:
    assert throttle.blocked_for("u1", "10.0.0.1") > 0
    throttle.record_failure("u1", "10.0.0.1")
    throttle.reset_user("u1")


def test_attempts_left_is_the_tighter_of_the_two_counters(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "USER_MAX_FAILURES", 3)
    monkeypatch.setattr(throttle, "IP_MAX_FAILURES", 4)
    assert throttle.attempts_left("u1", "10.0.0.1") == 3
    throttle.record_failure("u1", "10.0.0.1")
    assert throttle.attempts_left("u1", "10.0.0.1") == 2
    throttle.record_failure("u2", "10.0.0.1")
    throttle.record_failure("u2", "10.0.0.1")
    assert throttle.attempts_left("u1", "10.0.0.1") == 1  # the address' room is smaller now
    for _ in range(3):
        throttle.record_failure("u1", "10.0.0.1")
    assert throttle.attempts_left("u1", "10.0.0.1") == 0  # never negative


def expire_before_incr(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The counter's key expires between ``add()`` (it still existed) and ``incr()``."""
    cache = caches["default"]
    real_incr = cache.incr
    expired: list[str] = []

    def incr(key: str, delta: int = 1, version: int | None = None) -> int:
        cache.delete(key, version=version)
        expired.append(key)
        return real_incr(key, delta, version)

    monkeypatch.setattr(cache, "incr", incr)
    return expired


def test_a_counter_expiring_between_add_and_incr_restarts_at_one(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    throttle.record_failure("u1", "10.0.0.1")
    throttle.record_ip_failure("10.0.0.2")
    expired = expire_before_incr(monkeypatch)
    throttle.record_failure("u1", "10.0.0.1")
    throttle.record_ip_failure("10.0.0.2")
    assert len(expired) == 3  # the user's and both addresses' counters
    cache = caches["default"]
    assert [cache.get(key) for key in expired] == [1, 1, 1]  # counted, not lost


def test_ip_counter_alone_for_attempts_that_name_no_account(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "IP_MAX_FAILURES", 2)
    throttle.record_failure("u1", "10.0.0.1")  # a user's failure counts for the address too
    assert throttle.ip_blocked_for("10.0.0.1") == 0
    throttle.record_ip_failure("10.0.0.1")
    wait = throttle.ip_blocked_for("10.0.0.1")
    assert 1 <= wait <= throttle.FAILURE_WINDOW
    assert throttle.blocked_for("u9", "10.0.0.1") == wait
    assert throttle.ip_blocked_for("10.0.0.2") == 0
    clock.advance(wait)
    assert throttle.ip_blocked_for("10.0.0.1") == 0


def test_the_wait_is_until_the_window_ends(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "USER_MAX_FAILURES", 1)
    clock.t = 1_800_000_000 // throttle.FAILURE_WINDOW * throttle.FAILURE_WINDOW + 100.5
    throttle.record_failure("u1", "10.0.0.1")
    assert throttle.blocked_for("u1", "10.0.0.1") == throttle.FAILURE_WINDOW - 100  # rounded up
    clock.advance(throttle.FAILURE_WINDOW - 101)
    assert throttle.blocked_for("u1", "10.0.0.1") == 1  # never 0 while blocked
    clock.advance(0.5)
    assert throttle.blocked_for("u1", "10.0.0.1") == 0  # a new window


@override_settings(HARDENING_CACHE="missing")
def test_every_counter_fails_closed_on_a_broken_cache(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="hardening.mfa"):
        assert throttle.attempts_left("u1", "10.0.0.1") == 0
        assert throttle.ip_blocked_for("10.0.0.1") > 0
        throttle.record_ip_failure("10.0.0.1")  # logged, never raised
    failures = [r for r in caplog.records if r.name == "hardening.mfa"]
    assert [r.getMessage() for r in failures] == ["MFA failure counters unavailable"] * 3
    # Not an outage (a misconfigured alias): a bug, logged as an error with its traceback.
    assert all(r.levelno == logging.ERROR and r.exc_info for r in failures)


def test_an_unreachable_cache_is_an_outage_logged_quietly(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    unreachable = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "broken": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        },
    }
    with (
        override_settings(CACHES=unreachable, HARDENING_CACHE="broken"),
        caplog.at_level(logging.DEBUG, logger="hardening.mfa"),
    ):
        assert throttle.ip_blocked_for("10.0.0.1") > 0
        assert throttle.attempts_left("u1", "10.0.0.1") == 0
        throttle.record_ip_failure("10.0.0.1")
    failures = [r for r in caplog.records if r.name == "hardening.mfa"]
    assert failures and all(r.levelno == logging.DEBUG for r in failures)
