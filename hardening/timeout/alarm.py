"""The ``SIGALRM`` timer of gunicorn *sync* workers, which serve one request at a time in
the main thread.

At the deadline the handler raises :class:`~hardening.timeout.DeadlineInterrupt` (a
``BaseException``, so ``except Exception`` in a view cannot swallow it) where the view's
code is.  It is never used in other threads, nor when something else (pytest-timeout,
another library) uses ``SIGALRM``.  It raises at most once per request, and only while the
request's own code runs (:meth:`Alarm.run`), never in ``TimeoutMiddleware``'s code.

It does not raise, but tries again every :data:`_RETRY` seconds, while the main thread is
inside code that an exception must not land in (:func:`unsafe_region`): a logging handler
or its lock (``Handler.handle`` takes the lock before its ``try`` on Python < 3.13),
threading's lock and condition internals, the import system, or a transaction boundary of
Django's connection (commit, rollback, savepoints, autocommit, close: COMMIT does not go
through the execute wrapper, so it would otherwise be interrupted while its reply is
awaited).  In a database query it first waits up to :data:`QUERY_GRACE` for the query to
be cancelled cleanly.  Past :data:`MAX_DEFER` after the deadline it raises anyway (a
logging handler that hangs, a COMMIT a hung database never answers); the middleware then
logs a WARNING and closes any connection left in the middle of a command.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import threading
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any, TypeVar

import django.db

from hardening.timeout.deadline import Deadline, DeadlineInterrupt

_T = TypeVar("_T")

logger = logging.getLogger("hardening.timeout")

#: How long the alarm waits for an in-flight query to end by itself (statement timeout,
#: the watchdog's cancel) before it interrupts the query too (a hung database).
QUERY_GRACE = 0.2
#: The longest the alarm puts itself off past the deadline for an unsafe region.
MAX_DEFER = 1.0
_RETRY = 0.05

_LOGGING = os.path.dirname(os.path.abspath(logging.__file__)) + os.sep
_THREADING = os.path.abspath(threading.__file__)
_DJANGO_DB = os.path.dirname(os.path.abspath(django.db.__file__)) + os.sep
#: Transaction boundaries and connection life cycle (``BaseDatabaseWrapper`` and the
#: backends' overrides, ``transaction.Atomic``): one network round trip each, whose
#: interruption leaves the connection mid-command or its Python state half updated.
_TRANSACTION = frozenset(
    {
        "commit",
        "_commit",
        "rollback",
        "_rollback",
        "close",
        "_close",
        "set_autocommit",
        "_set_autocommit",
        "savepoint",
        "_savepoint",
        "savepoint_commit",
        "_savepoint_commit",
        "savepoint_rollback",
        "_savepoint_rollback",
        "__enter__",
        "__exit__",
    }
)
#: ``transaction.on_commit`` callbacks run inside ``set_autocommit``/``Atomic.__exit__``
#: after the commit: the request's own code again, which may be interrupted.
_CALLBACKS = "run_and_clear_commit_hooks"


@functools.lru_cache(maxsize=4096)
def _classify(code: CodeType) -> str | None:
    filename = code.co_filename
    if filename.startswith("<frozen importlib._bootstrap") or (
        os.path.basename(filename) in ("_bootstrap.py", "_bootstrap_external.py")
        and os.sep + "importlib" + os.sep in filename
    ):
        return "import"
    path = os.path.abspath(filename) if not filename.startswith("<") else filename
    if path.startswith(_LOGGING):
        return "logging"
    if path == _THREADING:
        return "threading"
    if path.startswith(_DJANGO_DB):
        if code.co_name == _CALLBACKS:
            return ""  # the boundary: frames outside it are not looked at
        if code.co_name in _TRANSACTION:
            return "transaction"
    return None


def unsafe_region(frame: FrameType | None) -> str | None:
    """The unsafe region (``"logging"``, ``"threading"``, ``"import"``,
    ``"transaction"``) that ``frame`` or one of its callers is in, or None."""
    while frame is not None:
        region = _classify(frame.f_code)
        if region is not None:
            return region or None
        frame = frame.f_back
    return None


class Alarm:
    """The ``SIGALRM`` timer of one request (main thread only)."""

    def __init__(self, deadline: Deadline, previous: Any) -> None:
        self.deadline = deadline
        self.previous = previous
        self.armed = True
        self.live = False  # the request's own code is running (may be interrupted)
        self.fired = False
        #: The unsafe region it interrupted anyway, past MAX_DEFER (for the log line).
        self.forced: str | None = None

    def run(self, func: Callable[[], _T]) -> _T:
        """Run the request's code: the only place where the timer raises."""
        self.live = True
        try:
            return func()
        finally:
            self.live = False

    def report(self) -> None:
        """After the request (never from the handler): log an unsafe region it had to
        interrupt anyway."""
        if self.forced is not None:
            logger.warning(
                "request %s: the timeout interrupted %s code %.2gs past the deadline "
                "(it had waited for it to finish); a connection left mid-command is closed",
                self.deadline.request_id or "-",
                self.forced,
                MAX_DEFER,
                extra={"request_id": self.deadline.request_id},
            )

    def disarm(self) -> None:
        """Stop the timer and hand ``SIGALRM`` back (a pending signal is then ignored)."""
        global _current
        self.armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        if _current is self:
            _current = None
        signal.signal(
            signal.SIGALRM, self.previous if self.previous is not None else signal.SIG_DFL
        )


_current: Alarm | None = None


def _again(seconds: float) -> None:
    # An itimer counts real seconds, whatever hardening.clock says: it only decides when
    # the handler looks again; whether the deadline has passed, and by how much, is read
    # from the Deadline (the clock seam; the same clock in production).  A budget of
    # centuries (the settings accept any finite number) overflows setitimer: the timer
    # then fires at threading.TIMEOUT_MAX and the handler looks again.
    signal.setitimer(signal.ITIMER_REAL, min(max(seconds, 0.001), threading.TIMEOUT_MAX))


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    alarm = _current
    if alarm is None or not alarm.armed or alarm.fired:
        return  # one exception per request: clean-up code after it is never interrupted
    deadline = alarm.deadline
    if not deadline.active:
        return  # @request_timeout(None)
    if not deadline.expired():  # the view was given a longer budget
        _again(deadline.remaining())
        return
    if not alarm.live:  # TimeoutMiddleware's own code: the request's code, or disarm()
        _again(_RETRY)
        return
    late = deadline.overdue()
    if threading.get_ident() in deadline.running and late < QUERY_GRACE:
        # Let PostgreSQL end the query cleanly (QueryCanceled -> 504) if it can.
        _again(_RETRY)
        return
    region = unsafe_region(frame)
    if region is not None:
        if late < MAX_DEFER:
            _again(_RETRY)
            return
        alarm.forced = region
    alarm.fired = True
    deadline.trip("signal")
    raise DeadlineInterrupt("signal")


def budget_changed(deadline: Deadline) -> None:
    """``deadline``'s expiry moved (a view's ``@request_timeout``): set the timer of its
    request, if one is armed, for the new expiry (a later one is handled by the handler,
    which looks again; an earlier one must not wait for the old)."""
    alarm = _current
    if alarm is not None and alarm.deadline is deadline and alarm.armed and not alarm.fired:
        _again(deadline.remaining())


def _alarm_free(previous: Any) -> bool:
    """Nothing else uses SIGALRM: default/ignored handler (or ours) and no timer set."""
    if previous not in (signal.SIG_DFL, signal.SIG_IGN, None, _on_alarm):
        return False
    return previous is _on_alarm or signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def arm_alarm(deadline: Deadline) -> Alarm | None:
    """Start a ``SIGALRM`` timer for ``deadline`` if this is the main thread and nothing
    else uses SIGALRM (None when not armed).  The caller runs the request's code with
    :meth:`Alarm.run` and calls :meth:`Alarm.disarm` when the request ends."""
    global _current
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        return None
    previous: Any = signal.getsignal(signal.SIGALRM)
    if not _alarm_free(previous):
        return None
    alarm = Alarm(deadline, previous)
    _current = alarm
    signal.signal(signal.SIGALRM, _on_alarm)
    _again(deadline.remaining())
    return alarm
