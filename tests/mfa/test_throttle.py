"""Per-user and per-IP failure counters: fixed windows, fail closed, on LocMem and Redis."""

from __future__ import annotations

import pytest
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
