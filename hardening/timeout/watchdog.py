"""Enforcement that does not need the request's cooperation: the :class:`Watchdog`, one
daemon thread per process.  When a registered deadline passes while the request is still
running, it cancels the request's in-flight database query (PostgreSQL cancel request,
SQLite interrupt) and logs where the request's thread is.  It never kills or interrupts a
Python thread: that is not safe (a lock held, a ``finally`` skipped, a C call left half
done).  The ``SIGALRM`` timer of gunicorn sync workers is :mod:`hardening.timeout.alarm`.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import time
import traceback

from prometheus_client import Counter

from hardening import clock
from hardening.timeout.db import CANCEL_TIMEOUT, busy_connections, cancel_running
from hardening.timeout.deadline import Deadline

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
        lock = threading.Lock()
        self._condition = threading.Condition(lock)  # wakes the thread
        self._settled = threading.Condition(lock)  # wakes wait_idle()
        self._busy = False  # expiring deadlines it has taken off the set
        self._deadlines: set[Deadline] = set()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._pid = 0
        self._wake_at = math.inf  # when the thread will next look (hardening.clock)

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
            self._settled.notify_all()

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

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no deadline is registered or being expired (for tests: a request
        answered 504 at its deadline leaves the deadline to the watchdog, whose log line
        comes later); True when idle within ``timeout``."""
        # Real time: a bound on this (real) wait, not a deadline of a request.
        end = time.monotonic() + timeout
        with self._settled:
            while self._deadlines or self._busy:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._settled.wait(left)
        return True

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
                # The deadlines' clock (the seam); the wait below sleeps real seconds
                # until the next one, which is the same in production.
                now = clock.monotonic()
                due = [d for d in self._deadlines if d.expires + GRACE <= now]
                self._deadlines.difference_update(due)
                upcoming = [d.expires + GRACE for d in self._deadlines]
                if not due:
                    self._wake_at = min(upcoming) if upcoming else math.inf
                    # A deadline lifted by @request_timeout(None) (infinite until it is
                    # unregistered) or centuries away: no timed wait takes that
                    # (OverflowError past threading.TIMEOUT_MAX); register() wakes it.
                    wait = self._wake_at - now
                    self._condition.wait(wait if wait < threading.TIMEOUT_MAX else None)
                    continue
                self._busy = True
            for deadline in due:
                try:
                    expire(deadline)
                except Exception:  # noqa: BLE001 - the watchdog must survive
                    logger.exception("timeout watchdog failed")
            with self._condition:
                self._busy = False
                self._settled.notify_all()


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
