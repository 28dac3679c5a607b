"""The circuit breaker in front of hot-path cache calls (``hardening.breaker``)."""

from __future__ import annotations

import logging

import pytest

from hardening.breaker import Breaker, BreakerOpen, GuardedCache, for_cache, is_outage
from hardening.observability.metrics import BREAKER_OPEN, BREAKER_TRANSITIONS
from tests.helpers.clock import FakeClock


def test_opens_on_first_outage_and_probes_with_a_doubling_interval(
    caplog: pytest.LogCaptureFixture, clock: FakeClock
) -> None:
    b = Breaker("test-a", initial=0.5, maximum=2.0)
    opened = BREAKER_TRANSITIONS.labels(breaker="test-a", state="open")._value.get()
    with caplog.at_level(logging.WARNING, "hardening.breaker"):
        assert b.allow()
        assert b.failure(TimeoutError()) is True
        assert BREAKER_OPEN.labels(breaker="test-a")._value.get() == 1
        assert [b.allow() for _ in range(5)] == [False] * 5  # skipped at once
        clock.advance(0.5)
        assert b.allow()  # the probe
        assert not b.allow()  # one probe at a time
        assert b.failure(TimeoutError()) is False
        clock.advance(0.9)
        assert not b.allow()  # now 1.0 s
        clock.advance(0.1)
        assert b.allow()
        b.failure(TimeoutError())
        clock.advance(2.0)  # doubled to 2.0, capped at the maximum
        assert b.allow()
        b.failure(TimeoutError())
        clock.advance(2.0)
        assert b.allow()
        b.success()
        assert b.state == "closed"
        assert all(b.allow() for _ in range(3))
    assert BREAKER_OPEN.labels(breaker="test-a")._value.get() == 0
    after = BREAKER_TRANSITIONS.labels(breaker="test-a", state="open")._value.get()
    assert after == opened + 1
    # Only this logger's lines: a watchdog thread left by an earlier test may log meanwhile.
    lines = [r.getMessage() for r in caplog.records if r.name == "hardening.breaker"]
    assert len(lines) == 2, lines  # one when it opens, one when it recovers
    assert "unavailable (TimeoutError)" in lines[0]
    assert "recovered" in lines[1] and "7 calls skipped, 4 failed" in lines[1]


def test_a_late_failure_from_before_the_outage_does_not_extend_it(clock: FakeClock) -> None:
    b = Breaker("test-b")
    b.failure(ConnectionError())
    assert b.failure(ConnectionError()) is False  # a second in-flight call timing out
    clock.advance(0.5)
    assert b.allow()


def test_a_probe_that_never_reports_does_not_block_probing_forever(clock: FakeClock) -> None:
    b = Breaker("test-c", initial=0.5, maximum=2.0)
    b.failure(ConnectionError())
    clock.advance(0.5)
    assert b.allow()  # this probe's thread dies without reporting
    clock.advance(1.0)
    assert not b.allow()
    clock.advance(1.0)
    assert b.allow()


def test_outage_errors() -> None:
    import redis

    assert is_outage(redis.exceptions.TimeoutError())
    assert is_outage(redis.exceptions.ConnectionError())
    assert is_outage(OSError())
    assert not is_outage(ValueError("key not found"))
    assert not is_outage(redis.exceptions.ResponseError("NOSCRIPT"))
    from django_redis.exceptions import ConnectionInterrupted

    try:
        try:
            raise redis.exceptions.TimeoutError()
        except redis.exceptions.TimeoutError as exc:
            raise ConnectionInterrupted(connection=None) from exc
    except ConnectionInterrupted as wrapped:
        assert is_outage(wrapped)


def test_guarded_cache_skips_an_open_breaker_and_passes_other_errors(settings: object) -> None:
    guarded = GuardedCache("default")
    assert guarded.add("breaker-test", 1, 5) in (True, False)
    with pytest.raises(ValueError):
        guarded.incr("breaker-test-missing")  # an answer, not an outage
    assert for_cache("default").state == "closed"
    for_cache("default").failure(TimeoutError())
    with pytest.raises(BreakerOpen):
        guarded.get("breaker-test")
