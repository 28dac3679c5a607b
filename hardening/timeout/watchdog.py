"""Enforcement that does not need the request's cooperation.

* :class:`Watchdog`: one daemon thread per process.  When a registered deadline passes
  while the request is still running, it cancels the request's in-flight database query
  (PostgreSQL cancel request, SQLite interrupt) and logs where the request's thread is.
  It never kills or interrupts a Python thread: that is not safe (a lock held, a
  ``finally`` skipped, a C call left half done).
* :func:`arm_alarm`: the ``SIGALRM`` timer for gunicorn *sync* workers, which serve one
  request at a time in the main thread.  Never used in other threads, nor when something
  else (pytest-timeout, another library) uses ``SIGALRM``.  It raises at most once per
  request, and waits up to :data:`QUERY_GRACE` for an in-flight query to be cancelled
  cleanly before interrupting it (the database layer then discards that connection).
"""

from __future__ import annotations

import logging
import math
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from types import FrameType
from typing import Any

from prometheus_client import Counter

from hardening.timeout.db import CANCEL_TIMEOUT, busy_connections, cancel_running
from hardening.timeout.deadline import Deadline, DeadlineExceeded, current_deadline

__all__ = ["CANCEL_FAILURES", "Watchdog", "arm_alarm", "watchdog"]

logger = logging.getLogger("hardening.timeout")

CANCEL_FAILURES = Counter(
    "hardening_timeout_cancel_failures_total",
    "Query cancels the database did not answer in time (hung database); the connection"
    " was shut down instead.",
)

#: Seconds after a deadline before the watchdog acts, so that the statement timeout (set
#: to the same instant) cancels the query first and the two do not race.
GRACE = 0.05


class Watchdog:
    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._deadlines: set[Deadline] = set()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._pid = 0
        self._wake_at = math.inf  # when the thread will next look (monotonic)

    def register(self, deadline: Deadline) -> None:
        with self._condition:
            self._deadlines.add(deadline)
            self._ensure_thread()
            # Wake the thread only if it would sleep past this deadline: with equal
            # budgets that is rare, so a busy worker does not pay a wake-up per request.
            if deadline.expires + GRACE < self._wake_at:
                self._wake_at = deadline.expires + GRACE
                self._condition.notify()

    def unregister(self, deadline: Deadline) -> None:
        with self._condition:
            self._deadlines.discard(deadline)

    def changed(self) -> None:
        """A deadline's expiry moved: wake the thread to recompute its sleep."""
        with self._condition:
            self._wake_at = -math.inf
            self._condition.notify()

    def __len__(self) -> int:
        with self._condition:
            return len(self._deadlines)

    def stop(self, timeout: float = 5.0) -> bool:
        """End the thread once it has finished what it is doing (its log lines included),
        waiting at most ``timeout``; True when no thread is left.  For tests: a later
        ``register`` starts a new thread."""
        with self._condition:
            thread, self._thread = self._thread, None
            self._stop.set()
            self._condition.notify()
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _ensure_thread(self) -> None:
        # After a fork (gunicorn workers) the parent's thread does not exist here.
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        self._pid = os.getpid()
        self._wake_at = -math.inf
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(self._stop,), name="hardening-timeout-watchdog", daemon=True
        )
        self._thread.start()

    def _run(self, stop: threading.Event) -> None:
        while True:
            with self._condition:
                if stop.is_set():
                    return
                now = time.monotonic()
                due = [d for d in self._deadlines if d.expires + GRACE <= now]
                self._deadlines.difference_update(due)
                upcoming = [d.expires + GRACE for d in self._deadlines]
                if not due:
                    self._wake_at = min(upcoming) if upcoming else math.inf
                    self._condition.wait(self._wake_at - now if upcoming else None)
                    continue
            for deadline in due:
                try:
                    expire(deadline)
                except Exception:  # noqa: BLE001 - the watchdog must survive
                    logger.exception("timeout watchdog failed")


def expire(deadline: Deadline) -> None:
    """Cancel what ``deadline`` still runs in the database; log the thread's stack."""
    with deadline.lock:
        if not deadline.active:
            return
        running = list(deadline.running.values())
        running += busy_connections(deadline.connections, running)
        if running:
            deadline.trip("db")
        cancelled, failed = cancel_running(running)
    fields = {
        "request_id": deadline.request_id,
        "timeout_budget": deadline.budget,
        "cancelled_queries": cancelled,
        "failed_cancels": failed,
    }
    if failed:
        CANCEL_FAILURES.inc(failed)
        logger.warning(
            "request %s: the database did not answer the cancel of %d query(ies) within "
            "%.2gs; their connections were shut down",
            deadline.request_id or "-",
            failed,
            CANCEL_TIMEOUT,
            extra=fields,
        )
    logger.log(
        logging.WARNING if cancelled else logging.DEBUG,
        "request %s passed its %.3gs deadline; %d query(ies) cancelled",
        deadline.request_id or "-",
        deadline.budget,
        cancelled,
        extra=fields,
    )
    if logger.isEnabledFor(logging.DEBUG) and deadline.thread_id is not None:
        frame = sys._current_frames().get(deadline.thread_id)
        if frame is not None:
            stack = "".join(traceback.format_stack(frame, limit=12))
            logger.debug("request %s is at:\n%s", deadline.request_id or "-", stack, extra=fields)


watchdog = Watchdog()


#: How long the alarm waits for an in-flight query to end by itself (statement timeout,
#: the watchdog's cancel) before it interrupts the query too (a hung database).
QUERY_GRACE = 0.2
_RETRY = 0.05


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    deadline = current_deadline()
    if deadline is None or deadline.exceeded == "signal":
        return  # one exception per request: clean-up code after it is never interrupted
    if not deadline.expired():  # the view was given a longer budget: re-arm
        signal.setitimer(signal.ITIMER_REAL, max(deadline.remaining(), 0.001))
        return
    in_query = threading.get_ident() in deadline.running
    if in_query and time.monotonic() < deadline.expires + QUERY_GRACE:
        # Let PostgreSQL end the query cleanly (QueryCanceled -> 504) if it can.
        signal.setitimer(signal.ITIMER_REAL, _RETRY)
        return
    deadline.trip("signal")
    raise DeadlineExceeded("signal")


def _alarm_free(previous: Any) -> bool:
    """Nothing else uses SIGALRM: default/ignored handler (or ours) and no timer set."""
    if previous not in (signal.SIG_DFL, signal.SIG_IGN, None, _on_alarm):
        return False
    return previous is _on_alarm or signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def arm_alarm(deadline: Deadline) -> Callable[[], None] | None:
    """Start a ``SIGALRM`` timer for ``deadline`` if this is the main thread and nothing
    else uses SIGALRM; return the function that disarms it (None when not armed)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        return None
    previous: Any = signal.getsignal(signal.SIGALRM)
    if not _alarm_free(previous):
        return None
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(deadline.remaining(), 0.001))

    def disarm() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)

    return disarm
