"""The circuit breaker in front of hot-path cache calls (``hardening.breaker``)."""

from __future__ import annotations

import logging
import os
import select
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest

from hardening.breaker import Breaker, GuardedCache, breaker, for_cache, reset_all
from hardening.observability.metrics import BREAKER_OPEN, BREAKER_TRANSITIONS
from hardening.outage import BreakerOpen, is_outage


def wait_until(predicate: object, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


class Probe:
    """A probe the test steers: fails with an outage ``failures`` times, then answers."""

    def __init__(self, failures: int = 0) -> None:
        self.failures, self.times = failures, []  # type: list[float]
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self) -> None:
        self.times.append(time.monotonic())
        self.gate.wait(10)
        if len(self.times) <= self.failures:
            raise TimeoutError("still hung")


def probers(b: Breaker) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"hardening-breaker {b.name}"]


def test_opens_on_first_outage_and_probes_in_the_background_with_a_doubling_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    probe = Probe(failures=3)
    b = Breaker("test-a", probe, initial=0.05, maximum=0.2)
    opened = BREAKER_TRANSITIONS.labels(breaker="test-a", state="open")._value.get()
    with caplog.at_level(logging.WARNING, "hardening.breaker"):
        assert b.allow()
        start = time.monotonic()
        assert b.failure(TimeoutError()) is True
        assert BREAKER_OPEN.labels(breaker="test-a")._value.get() == 1
        skipped = 0
        while b.state != "closed":  # no live call is let through while it is open
            assert not b.allow()
            skipped += 1
            assert time.monotonic() - start < 5, "never closed"
            time.sleep(0.005)
        assert all(b.allow() for _ in range(3))
    wait_until(lambda: not probers(b))  # the prober ends once closed
    gaps = [t - s for t, s in zip(probe.times, [start, *probe.times], strict=False)]
    assert len(gaps) == 4, gaps  # three failed probes, then the one that closed it
    for gap, interval in zip(gaps, [0.05, 0.1, 0.2, 0.2], strict=True):  # doubled, capped
        assert interval * 0.9 <= gap < interval + 1.0, gaps
    assert BREAKER_OPEN.labels(breaker="test-a")._value.get() == 0
    after = BREAKER_TRANSITIONS.labels(breaker="test-a", state="open")._value.get()
    assert after == opened + 1
    # Only this logger's lines: a watchdog thread left by an earlier test may log meanwhile.
    lines = [r.getMessage() for r in caplog.records if r.name == "hardening.breaker"]
    assert len(lines) == 2, lines  # one when it opens, one when it recovers
    assert "unavailable (TimeoutError)" in lines[0] and "in the background" in lines[0]
    assert "recovered" in lines[1] and f"{skipped} calls skipped, 4 failed" in lines[1]


def test_a_hung_probe_never_makes_a_caller_wait_and_runs_alone() -> None:
    probe = Probe(failures=1)
    probe.gate.clear()  # the probe hangs until the gate opens
    b = Breaker("test-hung", probe, initial=0.01, maximum=0.02)
    b.failure(ConnectionError())
    wait_until(lambda: len(probe.times) == 1)
    assert b.state == "probing"
    with ThreadPoolExecutor(max_workers=16) as pool:  # many callers at once

        def call(_: int) -> float:
            began = time.monotonic()
            assert not b.allow()
            return time.monotonic() - began

        waits = list(pool.map(call, range(400)))
    assert max(waits) < 0.05, max(waits)
    assert len(probers(b)) == 1  # one probe in flight per breaker, however many callers
    assert len(probe.times) == 1
    probe.gate.set()  # the hung probe times out (fails), the next one succeeds
    wait_until(lambda: b.state == "closed")
    wait_until(lambda: not probers(b))
    assert len(probe.times) == 2


def test_a_live_success_closes_it_and_ends_the_prober() -> None:
    b = Breaker("test-live", Probe(failures=1000), initial=0.01, maximum=0.02)
    b.failure(ConnectionError())
    wait_until(lambda: b.probes >= 2)
    b.success()  # a call from before the outage answered: the dependency is back
    assert b.state == "closed"
    wait_until(lambda: not probers(b))


def test_a_late_failure_from_before_the_outage_does_not_extend_it() -> None:
    b = Breaker("test-b", Probe(), initial=0.05)
    start = time.monotonic()
    b.failure(ConnectionError())
    assert b.failure(ConnectionError()) is False  # a second in-flight call timing out
    wait_until(lambda: b.state == "closed")
    assert time.monotonic() - start < 1.0


def test_reset_ends_the_probers() -> None:
    b = breaker("test-reset", Probe(failures=1000))
    b.failure(ConnectionError())
    assert probers(b)
    reset_all()
    wait_until(lambda: not probers(b))


def test_fork_safe_a_child_gets_fresh_locks_and_its_own_prober() -> None:
    """A breaker opened in a pre-forking master (held lock, running prober) works in a
    forked worker: the child neither deadlocks nor waits for the parent's prober."""
    probe = Probe(failures=1000)
    b = breaker("test-fork", probe)
    b.failure(ConnectionError())
    assert probers(b)
    read, write = os.pipe()
    held, release = threading.Event(), threading.Event()

    def hold() -> None:  # another thread of the parent holds the lock at the fork
        with b._lock:
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12+)
        pid = os.fork()
    release.set()
    if pid == 0:  # the child: report through the pipe, never return into pytest
        code = 1
        try:
            probe.failures = 0  # the dependency is back, as the child sees it
            answer: list[bool] = []
            caller = threading.Thread(target=lambda: answer.append(b.allow()))
            caller.start()
            caller.join(2)
            deadline = time.monotonic() + 5
            while b.state != "closed" and time.monotonic() < deadline:
                time.sleep(0.01)
            code = 0 if answer == [False] and b.state == "closed" else 2
        finally:
            os.write(write, bytes([code]))
            os._exit(code)
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], 15)
        assert ready, "the forked child hung"
        assert os.read(read, 1) == bytes([0])
    finally:
        os.close(read)
        os.waitpid(pid, 0)
        holder.join(5)
    assert b.state == "open"  # the parent's breaker is untouched


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


def test_a_cache_breaker_probes_the_cache_in_the_background() -> None:
    b = for_cache("default")
    b.failure(TimeoutError())  # the (local-memory) cache answers the probe: closed again
    wait_until(lambda: b.state == "closed")
    assert b.probes == 1


class ClosesOnEntry:
    """The breaker's lock, as seen by a caller that read "open" without the lock and then
    lost the race: another thread closed the breaker before this caller got the lock."""

    def __init__(self, b: Breaker) -> None:
        self.b, self.lock = b, b._lock

    def __enter__(self) -> None:
        self.lock.acquire()
        self.b._open = self.b._probing = False  # what the other thread's success() did

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def test_a_caller_that_loses_the_race_to_a_recovery_sees_it_closed() -> None:
    b = Breaker("test-race", Probe(failures=1000), initial=60)
    b.failure(ConnectionError())
    recovered = BREAKER_TRANSITIONS.labels(breaker="test-race", state="closed")._value.get()
    b._lock = ClosesOnEntry(b)  # type: ignore[assignment]
    assert b.allow() is True  # closed meanwhile: the call goes through, nothing skipped
    assert b._skipped == 0
    b._open = True  # open again as seen without the lock; closed once the lock is held
    b.success()  # a second recovery is not counted or logged twice
    after = BREAKER_TRANSITIONS.labels(breaker="test-race", state="closed")._value.get()
    assert after == recovered
    b.stop()


def test_a_probe_answered_with_an_error_that_is_no_outage_closes_it() -> None:
    calls = []

    def probe() -> None:
        calls.append(1)
        raise ValueError("key not found")  # an answer: the dependency is back

    b = Breaker("test-answer", probe, initial=0.01)
    b.failure(TimeoutError())
    wait_until(lambda: b.state == "closed")
    assert b.probes == 1 and calls == [1]
    wait_until(lambda: not probers(b))


def test_no_thread_to_spare_a_later_skipped_call_starts_the_prober(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class NoThreads(threading.Thread):
        def start(self) -> None:
            raise RuntimeError("can't start new thread")

    monkeypatch.setattr("hardening.breaker.threading.Thread", NoThreads)
    b = Breaker("test-nothread", Probe(), initial=0.01)
    assert b.failure(TimeoutError()) is True  # opens even without its prober
    assert b.state == "open" and not probers(b)
    assert b.allow() is False  # skipped; the prober still cannot start
    assert b._prober is None
    monkeypatch.undo()
    assert b.allow() is False  # this skipped call starts it: it probes and closes
    wait_until(lambda: b.state == "closed")
    assert b.probes == 1


def test_after_fork_a_child_gets_fresh_unheld_locks_and_no_prober() -> None:
    from hardening import breaker as module

    b = breaker("test-afterfork", Probe(failures=1000))
    b.failure(ConnectionError())
    parents_prober, held = b._stop, b._lock  # the child forgets them; this process does not
    assert held.acquire(timeout=1)  # held at the fork by a thread the child lacks
    registry = module._registry_lock
    registry.acquire()
    try:
        module._after_fork_in_child()
        assert b._lock.acquire(blocking=False)  # a new lock, not the held one
        b._lock.release()
        assert module._registry_lock.acquire(blocking=False)
        module._registry_lock.release()
        assert b._prober is None and b.state == "open"
    finally:
        held.release()
        registry.release()
        parents_prober.set()
        reset_all()
    wait_until(lambda: not probers(b))


def test_guarded_cache_exposes_the_cache_and_its_plain_attributes(settings: object) -> None:
    from django.core.cache import caches

    guarded = GuardedCache("default")
    assert guarded.cache is caches["default"]
    for_cache("default").failure(TimeoutError())
    # A plain attribute is no call to the cache: read even while the breaker is open.
    assert guarded.default_timeout == caches["default"].default_timeout
    with pytest.raises(BreakerOpen):
        guarded.get("breaker-test")
