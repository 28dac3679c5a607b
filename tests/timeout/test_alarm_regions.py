"""Where the SIGALRM handler may raise: it is called, as the signal machinery calls it,
with the frame that was running, from inside each unsafe region (a logging handler,
threading internals, an import, Django's commit / rollback / close) and outside them."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from hardening.timeout import DeadlineInterrupt
from hardening.timeout.alarm import MAX_DEFER, Alarm, _on_alarm, arm_alarm, unsafe_region
from hardening.timeout.deadline import Deadline

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def alarm(free_sigalrm: None) -> Iterator[Alarm]:
    """An armed alarm whose deadline has passed, as while the view's code runs."""
    deadline = Deadline(budget=30)
    armed = arm_alarm(deadline)
    assert armed is not None
    deadline.set_budget(deadline.elapsed())  # it passes now
    armed.live = True
    try:
        yield armed
    finally:
        armed.disarm()


def probe() -> str:
    """What the handler does if SIGALRM arrives right here."""
    signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        _on_alarm(signal.SIGALRM, sys._getframe())
    except DeadlineInterrupt:
        return "raised"
    # Deferred: it tries again soon (the retry is cancelled here, the test goes on).
    assert signal.setitimer(signal.ITIMER_REAL, 0)[0] > 0, "deferred, but not tried again"
    return "deferred"


class ProbeHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.outcomes: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.outcomes.append(probe())


def in_logging() -> str:
    handler = ProbeHandler()
    logger = logging.getLogger("tests.timeout.regions")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("x")
    finally:
        logger.removeHandler(handler)
    return handler.outcomes[0]


class ProbeLock:
    """A lock that threading's Condition code takes and releases."""

    def __init__(self) -> None:
        self.outcomes: list[str] = []
        self.held = False

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self.held and not blocking:
            return False
        self.held = True
        return True

    def release(self) -> None:
        self.outcomes.append(probe())
        self.held = False

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *args: object) -> None:
        self.held = False


def in_threading() -> str:
    condition = threading.Condition(ProbeLock())  # type: ignore[arg-type]
    with condition:
        condition.wait(0)  # releases the lock inside Condition.wait
    return condition._lock.outcomes[0]  # type: ignore[attr-defined]


def in_import(tmp_path: Path) -> str:
    (tmp_path / "hardening_probe_module.py").write_text(
        "from tests.timeout.test_alarm_regions import probe\nOUTCOME = probe()\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        module = __import__("hardening_probe_module")
        return str(module.OUTCOME)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("hardening_probe_module", None)


class ProbeConnection:
    """A raw DB-API connection whose commit / rollback / close run the probe."""

    def __init__(self) -> None:
        self.outcomes: list[str] = []

    def commit(self) -> None:
        self.outcomes.append(probe())

    rollback = close = commit


@pytest.mark.parametrize("method", ["commit", "rollback", "close"])
def test_defers_inside_a_connections_commit_rollback_and_close(alarm: Alarm, method: str) -> None:
    wrapper = connections.create_connection("default")
    raw = ProbeConnection()
    wrapper.connection = raw
    getattr(BaseDatabaseWrapper, method)(wrapper)
    assert raw.outcomes == ["deferred"]
    assert not alarm.fired


def test_defers_inside_logging_threading_and_imports(alarm: Alarm, tmp_path: Path) -> None:
    assert in_logging() == "deferred"
    assert in_threading() == "deferred"
    assert in_import(tmp_path) == "deferred"
    assert not alarm.fired
    assert probe() == "raised"  # the view's own code
    assert alarm.fired and alarm.forced is None
    assert alarm.deadline.exceeded == "signal"


def test_raises_once_only(alarm: Alarm) -> None:
    assert probe() == "raised"
    _on_alarm(signal.SIGALRM, sys._getframe())  # clean-up after it is never interrupted
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_past_the_maximum_deferral_it_raises_anyway(alarm: Alarm) -> None:
    alarm.deadline.set_budget(-MAX_DEFER)  # the deadline passed MAX_DEFER ago
    assert in_logging() == "raised"
    assert alarm.forced == "logging"


def test_never_raises_in_the_middlewares_own_code(alarm: Alarm) -> None:
    alarm.live = False  # before Alarm.run, or after it
    assert probe() == "deferred"
    alarm.disarm()  # a signal still pending then is ignored
    _on_alarm(signal.SIGALRM, sys._getframe())
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL
    assert not alarm.fired


@pytest.mark.django_db(transaction=True)
def test_on_commit_callbacks_are_the_requests_own_code(alarm: Alarm) -> None:
    outcomes: list[str] = []
    with transaction.atomic():
        transaction.on_commit(lambda: outcomes.append(probe()))
        assert unsafe_region(sys._getframe()) is None
    assert outcomes == ["raised"]
    assert connection.get_autocommit() and not connection.in_atomic_block


def test_the_timer_waits_for_a_longer_view_budget(alarm: Alarm) -> None:
    alarm.deadline.set_budget(alarm.deadline.elapsed() + 10)
    signal.setitimer(signal.ITIMER_REAL, 0)
    _on_alarm(signal.SIGALRM, sys._getframe())
    assert signal.setitimer(signal.ITIMER_REAL, 0)[0] > 5  # set for the new deadline
