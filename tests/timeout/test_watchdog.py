from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from hardening.timeout.deadline import Deadline
from hardening.timeout.watchdog import Watchdog


@pytest.fixture
def dog() -> Iterator[Watchdog]:
    """A watchdog of the test's own, whose thread has ended when the test ends (its log
    lines once landed in a later test)."""
    dog = Watchdog()
    yield dog
    assert dog.stop(timeout=5), "the watchdog thread did not end"


class FakeConnection:
    def __init__(self) -> None:
        self.cancelled = threading.Event()

    def cancel_safe(self, timeout: float) -> None:
        self.cancelled.set()


def test_watchdog_cancels_running_query_at_expiry_only_while_active(
    dog: Watchdog, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hardening.timeout")
    late, early, done = FakeConnection(), FakeConnection(), FakeConnection()
    slow = Deadline(budget=0.2)
    slow.running[1] = ("postgresql", late)
    long_budget = Deadline(budget=5)
    long_budget.running[1] = ("postgresql", early)
    finished = Deadline(budget=0.1)
    finished.running[1] = ("postgresql", done)
    started = time.monotonic()
    for deadline in (long_budget, slow, finished):
        dog.register(deadline)
    dog.unregister(finished)  # the request finished in time
    assert late.cancelled.wait(2)  # acts after expiry (bounded wait, no upper wall-clock bound)
    assert time.monotonic() - started >= 0.2  # never before the deadline
    assert slow.exceeded == "db"
    assert not early.cancelled.is_set()
    assert not done.cancelled.is_set()
    assert len(dog) == 1
    dog.unregister(long_budget)
    assert dog.stop(timeout=5)  # waits for the thread: its log line is this test's
    lines = [r.getMessage() for r in caplog.records if r.name == "hardening.timeout"]
    assert lines == ["request - passed its 0.2s deadline; 1 query(ies) cancelled"]


def test_stop_waits_for_the_log_line_of_a_cancel_in_progress(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A tiny switch interval lets the test thread run on between the cancel and the
    # watchdog's log line, as on a loaded CI machine.
    caplog.set_level(logging.DEBUG, logger="hardening.timeout")
    dog = Watchdog()
    conn = FakeConnection()
    deadline = Deadline(budget=0.05)
    deadline.running[1] = ("postgresql", conn)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        dog.register(deadline)
        assert conn.cancelled.wait(2)
        assert dog.stop(timeout=5)
    finally:
        sys.setswitchinterval(interval)
    assert [r.getMessage() for r in caplog.records if r.name == "hardening.timeout"] == [
        "request - passed its 0.05s deadline; 1 query(ies) cancelled"
    ]
    assert dog.stop(timeout=1)  # stopping twice is harmless


def test_watchdog_wakes_for_an_earlier_or_moved_deadline(dog: Watchdog) -> None:
    far = Deadline(budget=30)
    dog.register(far)
    near = Deadline(budget=0.1)
    conn = FakeConnection()
    near.running[1] = ("postgresql", conn)
    dog.register(near)  # earlier than the thread's planned wake-up
    assert conn.cancelled.wait(2)
    moved = Deadline(budget=30)
    conn2 = FakeConnection()
    moved.running[1] = ("postgresql", conn2)
    dog.register(moved)
    moved.set_budget(0.1)
    dog.changed()
    assert conn2.cancelled.wait(2)
    dog.unregister(far)


def test_inactive_deadline_is_left_alone(dog: Watchdog) -> None:
    deadline = Deadline(budget=0.05)
    conn = FakeConnection()
    deadline.running[1] = ("postgresql", conn)
    deadline.active = False
    dog.register(deadline)
    stop = time.monotonic() + 1
    while len(dog) and time.monotonic() < stop:
        time.sleep(0.01)
    assert len(dog) == 0  # popped at expiry
    assert not conn.cancelled.is_set()


def test_a_deadline_after_a_fake_clock_is_expired_in_time() -> None:
    """The watchdog sleeps until its next deadline on hardening.clock. A test's fake clock
    put that wake-up on the fake timeline, and a deadline registered after the real clock
    came back waited for it (CI: the watchdog cancelled nothing, 200 instead of 504)."""
    import threading
    import time

    from hardening.timeout.deadline import Deadline
    from hardening.timeout.watchdog import watchdog
    from tests.helpers.clock import FakeClock, installed

    fake = FakeClock()
    fake.advance(time.monotonic() - 100 - fake.monotonic())  # the fake is 100 s behind
    looked = threading.Event()
    fake_monotonic = fake.monotonic

    def monotonic() -> float:
        if threading.current_thread().name == "hardening-timeout-watchdog":
            looked.set()
        return fake_monotonic()

    fake.monotonic = monotonic  # type: ignore[method-assign]
    with installed(fake):
        early = Deadline(30.0)
        watchdog.register(early)
        assert looked.wait(5)  # the thread now sleeps until early's expiry, fake time
        watchdog.unregister(early)
    late = Deadline(0.2)
    watchdog.register(late)
    assert watchdog.wait_idle(timeout=5), "the real deadline waited for a fake-clock wake-up"


def _far(dog: Watchdog) -> Deadline:
    """A budget of centuries (a finite number the settings accept)."""
    deadline = Deadline(budget=1e10)
    dog.register(deadline)
    return deadline


def _lifted(dog: Watchdog) -> Deadline:
    """``@request_timeout(None)``: disable() runs before unregister(); another request's
    changed budget (``watchdog.changed()``) can wake the thread in between."""
    deadline = Deadline(budget=10)
    dog.register(deadline)
    with deadline.lock:
        deadline.disable()
    dog.changed()
    return deadline


@pytest.mark.parametrize("make", [_far, _lifted], ids=["centuries", "lifted"])
def test_the_watchdog_survives_a_deadline_beyond_any_wait(
    dog: Watchdog, monkeypatch: pytest.MonkeyPatch, make: object
) -> None:
    """The thread sleeps until the next deadline: one too far for a timed wait
    (``threading.TIMEOUT_MAX``, or infinite) must not kill it (an OverflowError did)."""
    crashes: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: crashes.append(args.exc_value))
    far = make(dog)  # type: ignore[operator]
    thread = dog._thread
    assert thread is not None
    # It has looked at the far deadline once it has computed its next wake-up.
    end = time.monotonic() + 5
    while dog._wake_at < far.expires and thread.is_alive() and time.monotonic() < end:
        threading.Event().wait(0.005)
    connection = FakeConnection()
    near = Deadline(budget=0.05)
    near.running[1] = ("postgresql", connection)
    dog.register(near)
    assert connection.cancelled.wait(5)  # nearer deadlines are still expired
    dog.unregister(far)
    assert crashes == [] and dog._thread is thread and thread.is_alive()
