"""Run health checks concurrently, each bounded by a timeout, with a short result cache.

django-health-check 4.8 runs checks with ``asyncio.wait_for`` in the event loop's default
executor.  A check blocked in a socket read (a stopped PostgreSQL, a paused Redis) cannot
be cancelled there: the thread stays blocked, and ``asyncio.run`` then waits for it when
the loop closes.  Here each check name owns one long-lived *daemon* worker thread:

* the probe waits for a check only until its deadline and then reports ``timeout``;
* while a check is still blocked, later probes reuse that in-flight call instead of
  starting another one (single flight), so a hung dependency costs one thread per check,
  not one per probe, and a blocked thread never delays process exit;
* the thread keeps its database connection between probes (``CONN_MAX_AGE``) and discards
  it when it is unusable.

One evaluation runs at a time per process; the result is reused for :data:`CACHE_SECONDS`
so a flood of probes does not hammer the database.

A check whose ``critical`` attribute is False (``("jwks", {"critical": False})`` in
``HARDENING_HEALTH_CHECKS``; the caches by default) is a dependency this instance tolerates:
its failure or timeout is ``degraded`` (200), not ``error`` (503).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any

from django.core.signals import setting_changed
from django.db import connections
from django.dispatch import receiver
from health_check.base import HealthCheck
from health_check.exceptions import HealthCheckException, ServiceWarning

from hardening import clock
from hardening.context import current_request_id
from hardening.health.probes import Degraded, Skipped, check_name

#: Seconds a process reuses its last readiness report (tests set 0: every probe evaluates).
CACHE_SECONDS = 1.0

logger = logging.getLogger("hardening.health")

_Result = tuple[str, str | None, float, BaseException | None]


@dataclass(frozen=True)
class Outcome:
    """One check's result; ``reason`` is safe to show (fixed text, no driver messages)."""

    name: str
    status: str  # "ok" | "warning" | "degraded" | "error"
    duration: float
    reason: str | None = None


@dataclass(frozen=True)
class Report:
    outcomes: tuple[Outcome, ...]
    created: float = field(default_factory=lambda: clock.monotonic())

    @property
    def status(self) -> str:
        statuses = {outcome.status for outcome in self.outcomes}
        for status in ("error", "degraded", "warning"):
            if status in statuses:
                return status
        return "ok"


def _public_reason(check: HealthCheck, exc: HealthCheckException) -> str:
    if getattr(check, "public_messages", False) and isinstance(exc.message, str):
        return exc.message[:200]
    # Third-party checks may put hosts or DSNs in their messages: show the kind only.
    return str(exc.message_type).lower()


def _rid() -> str | None:
    return current_request_id()


def _worth_a_traceback(exc: BaseException) -> bool:
    """The driver error behind a failure, or an unexpected exception (logs only)."""
    return exc.__cause__ is not None or not isinstance(exc, HealthCheckException)


def _execute(check: HealthCheck) -> _Result:
    """Run one check on the current (worker) thread; never raises."""
    start = clock.monotonic()
    try:
        if inspect.iscoroutinefunction(check.run):
            asyncio.run(check.run())
        else:
            check.run()
    except Skipped:
        return ("skipped", None, clock.monotonic() - start, None)
    except Degraded as exc:
        return ("degraded", _public_reason(check, exc), clock.monotonic() - start, exc)
    except ServiceWarning as exc:
        return ("warning", _public_reason(check, exc), clock.monotonic() - start, exc)
    except HealthCheckException as exc:
        return ("error", _public_reason(check, exc), clock.monotonic() - start, exc)
    except Exception as exc:
        return ("error", "unknown error", clock.monotonic() - start, exc)
    return ("ok", None, clock.monotonic() - start, None)


def _named(checks: list[HealthCheck]) -> list[tuple[str, HealthCheck]]:
    """Unique names: a second check called ``cache`` becomes ``cache#2``."""
    seen: dict[str, int] = {}
    named = []
    for check in checks:
        name = check_name(check)
        seen[name] = count = seen.get(name, 0) + 1
        named.append((name if count == 1 else f"{name}#{count}", check))
    return named


class _Worker:
    """A daemon thread running one check at a time from a queue."""

    def __init__(self, name: str) -> None:
        self.jobs: queue.SimpleQueue[tuple[Callable[[], _Result], Future[_Result]] | None]
        self.jobs = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name=f"health-{name}", daemon=True)
        self.thread.start()

    def submit(self, function: Callable[[], _Result]) -> Future[_Result]:
        future: Future[_Result] = Future()
        self.jobs.put((function, future))
        return future

    def stop(self) -> None:
        self.jobs.put(None)

    def _loop(self) -> None:
        try:
            while (job := self.jobs.get()) is not None:
                function, future = job
                if future.set_running_or_notify_cancel():
                    future.set_result(function())
        finally:
            connections.close_all()  # only this thread's connections


class Runner:
    def __init__(self) -> None:
        self.pid = os.getpid()
        self._workers: dict[str, _Worker] = {}
        self._inflight: dict[str, tuple[Future[_Result], float]] = {}
        self._state = threading.Lock()
        self._evaluating = threading.Lock()
        self._cached: Report | None = None

    def close(self) -> None:
        with self._state:
            for worker in self._workers.values():
                worker.stop()
            self._workers.clear()
            self._inflight.clear()
            self._cached = None

    def in_flight(self) -> list[str]:
        """Names of checks whose call has not returned (for tests and debugging)."""
        with self._state:
            return [name for name, (future, _) in self._inflight.items() if not future.done()]

    def _start(self, name: str, check: HealthCheck) -> tuple[Future[_Result], float]:
        with self._state:
            current = self._inflight.get(name)
            if current is not None and not current[0].done():
                return current  # single flight: the previous call is still blocked
            worker = self._workers.get(name)
            if worker is None:
                worker = self._workers[name] = _Worker(name)
            entry = (worker.submit(lambda: _execute(check)), clock.monotonic())
            self._inflight[name] = entry
            return entry

    def evaluate(self, checks: list[HealthCheck], timeout: float) -> Report:
        """Run ``checks`` concurrently; each gets ``timeout`` seconds from its start."""
        pending = [(name, check, *self._start(name, check)) for name, check in _named(checks)]
        outcomes: list[Outcome] = []
        for name, check, future, began in pending:
            remaining = began + timeout - clock.monotonic()
            try:
                status, reason, duration, exc = future.result(timeout=max(remaining, 0))
            except FutureTimeout:
                status, reason, duration = "error", f"timed out after {timeout:g}s", timeout
                exc = None
            if status == "skipped":
                continue
            if status == "error" and getattr(check, "critical", True) is False:
                status = "degraded"  # a tolerated dependency: its failure or hang degrades
            if status != "ok":
                logger.warning(
                    "health check %s %s: %s (request %s)",
                    name,
                    status,
                    reason,
                    _rid(),
                    exc_info=exc if exc is not None and _worth_a_traceback(exc) else None,
                )
            outcomes.append(Outcome(name, status, round(duration, 6), reason))
        return Report(tuple(outcomes))

    def report(
        self, build: Callable[[], list[HealthCheck]], timeout: float, ttl: float
    ) -> tuple[Report, bool]:
        """The cached report if younger than ``ttl``, else a fresh one; ``(report, fresh)``."""
        cached = self._cached
        if cached is not None and clock.monotonic() - cached.created < ttl:
            return cached, False
        # Probes arriving during an evaluation wait for it (bounded by the timeout).
        with self._evaluating:
            cached = self._cached
            if cached is not None and clock.monotonic() - cached.created < ttl:
                return cached, False
            try:
                checks = build()
            except Exception:  # bad settings (hardening.E502/E506): unready, never a 500
                logger.exception("health checks could not be built (request %s)", _rid())
                outcome = Outcome("configuration", "error", 0.0, "invalid health settings")
                report = Report((outcome,))
            else:
                report = self.evaluate(checks, timeout)
            self._cached = report
            return report, True


_runner: Runner | None = None
_runner_lock = threading.Lock()


def get_runner() -> Runner:
    """The process's runner; a forked child (gunicorn worker) gets its own."""
    global _runner
    with _runner_lock:
        if _runner is None or _runner.pid != os.getpid():
            _runner = Runner()
        return _runner


def reset() -> None:
    """Forget cached results and stop idle workers (settings changed, tests)."""
    global _runner
    with _runner_lock:
        if _runner is not None and _runner.pid == os.getpid():
            _runner.close()
        _runner = None


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("HARDENING_") or setting in ("CACHES", "DATABASES", "INSTALLED_APPS"):
        reset()
