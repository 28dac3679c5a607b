"""Run the rest of a WSGI request in a helper thread and wait for it with the deadline.

Used by :class:`~hardening.middleware.TimeoutMiddleware` when a WSGI request is
served outside the main thread (gunicorn ``gthread``, ``runserver``): the server's thread
waits; when the deadline passes first it answers 504 and the helper thread is *orphaned*
(it finishes on its own; its queries are cancelled and refused).

What stays right:

* **Database connections** are the server thread's own: they are lent to the helper for
  the request (``inc_thread_sharing``), so ``ATOMIC_REQUESTS``, ``CONN_MAX_AGE``,
  ``close_old_connections`` on ``request_started``/``request_finished`` and test
  transactions see the same objects, used by one thread at a time.  On a timeout the
  server thread gives them up (it gets fresh ones) and the orphan closes them when done.
* **ContextVars**: the helper runs in a copy of the request's context.
* One helper thread per server thread, reused from request to request; an orphan is
  replaced, and exits when its view returns.  ``hardening_timeout_orphaned_threads``
  counts orphans still running (WSGI and ASGI).
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler
from django.db import connections
from prometheus_client import Gauge

from hardening.timeout.deadline import Deadline

ORPHANS = Gauge(
    "hardening_timeout_orphaned_threads",
    "Threads still running the work of a request that was already answered 504.",
    multiprocess_mode="livesum",
)

_local = threading.local()

#: Recent asgiref (3.13, Python >= 3.11) lets a block of code use an executor of its own.
OWN_EXECUTOR = "executor" in inspect.signature(ThreadSensitiveContext).parameters


# Only asgiref < 3.13 (Python 3.10) takes this path: tox py310 runs it, the coverage run
# (Python 3.11, asgiref 3.13) cannot.
class _ExecutorContext:  # pragma: no cover
    """``ThreadSensitiveContext(executor=...)`` for asgiref < 3.13 (the newest asgiref on
    Python 3.10 is 3.12): thread-sensitive calls inside the block go to ``executor``, which
    the caller owns.  Same mechanism as asgiref 3.13: a new context key mapped to the
    executor in ``SyncToAsync.context_to_thread_executor``, and an inherited
    ``CurrentThreadExecutor`` hidden for the block."""

    def __init__(self, executor: ThreadPoolExecutor) -> None:
        self._executor = executor
        self._token: Any = None
        self._old: Any = None

    async def __aenter__(self) -> _ExecutorContext:
        from asgiref.sync import AsyncToSync, SyncToAsync

        self._token = SyncToAsync.thread_sensitive_context.set(self)  # type: ignore[arg-type]
        SyncToAsync.context_to_thread_executor[self] = self._executor  # type: ignore[index]
        self._old = getattr(AsyncToSync.executors, "current", None)
        AsyncToSync.executors.current = None
        return self

    async def __aexit__(self, *exc: object) -> None:
        from asgiref.sync import AsyncToSync, SyncToAsync

        SyncToAsync.context_to_thread_executor.pop(self, None)  # type: ignore[call-overload]
        SyncToAsync.thread_sensitive_context.reset(self._token)
        AsyncToSync.executors.current = self._old


def executor_context(executor: ThreadPoolExecutor) -> Any:
    """An async context manager sending the block's thread-sensitive work to ``executor``."""
    if OWN_EXECUTOR:
        return ThreadSensitiveContext(executor=executor)  # type: ignore[call-arg,unused-ignore]
    return _ExecutorContext(executor)  # pragma: no cover - asgiref < 3.13


class Job:
    def __init__(self, func: Callable[[], Any], lent: dict[str, Any]) -> None:
        self.func = func
        self.lent = lent
        self.context = contextvars.copy_context()
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.lock = threading.Lock()
        self.orphaned = False

    def run(self) -> None:
        for alias, connection in self.lent.items():
            connections[alias] = connection
        try:
            self.result = self.context.run(self.func)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            self.error = exc
        finally:
            for alias in self.lent:
                del connections[alias]
            with self.lock:
                orphaned = self.orphaned
                self.done.set()
            if orphaned:
                _release(self.lent, close=True)
                ORPHANS.dec()

    def orphan(self) -> bool:
        """Mark the job orphaned unless it has just finished; True when orphaned."""
        with self.lock:
            if self.done.is_set():
                return False
            self.orphaned = True
        ORPHANS.inc()
        return True


class _Helper:
    def __init__(self) -> None:
        self.jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="hardening-request", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            job.run()
            if job.orphaned:
                return  # the server thread has a new helper already


def _helper() -> _Helper:
    helper: _Helper | None = getattr(_local, "helper", None)
    if helper is None or not helper.thread.is_alive():
        helper = _Helper()
        _local.helper = helper
    return helper


def _release(lent: dict[str, Any], *, close: bool) -> None:
    for connection in lent.values():
        if close:
            with contextlib.suppress(Exception):  # a broken connection is discarded anyway
                connection.close()
        connection.dec_thread_sharing()


def run_with_deadline(
    func: Callable[[], Any], wait: Callable[[threading.Event], bool]
) -> tuple[bool, Any]:
    """Run ``func`` in this thread's helper; ``wait(done)`` blocks until the job is done
    (True) or the deadline passed (False).  Returns ``(True, result)`` or
    ``(False, None)`` after orphaning the job; re-raises ``func``'s exception."""
    lent = {alias: connections[alias] for alias in connections}
    for connection in lent.values():
        connection.inc_thread_sharing()
    job = Job(func, lent)
    helper = _helper()
    helper.jobs.put(job)
    if not wait(job.done) and job.orphan():
        _local.helper = None  # the next request gets a new helper thread
        for alias in lent:
            # This thread gets fresh connection objects; the orphan closes the lent ones.
            del connections[alias]
        return False, None
    _release(lent, close=False)
    if job.error is not None:
        raise job.error
    return True, job.result


# -- ASGI: one reusable thread per in-flight request ---------------------------------

#: Idle single-thread executors kept for reuse (more are created under load).
MAX_IDLE = 64
_idle: list[RequestExecutor] = []
_idle_lock = threading.Lock()
_idle_pid = 0


class RequestExecutor(ThreadPoolExecutor):
    """A one-thread executor that knows whether its thread is running something."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="hardening-request")
        self.running = 0  # changed by its one thread only
        #: The thread's connections, for the watchdog (set after each request).
        self.hardening_connections: list[Any] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        return super().submit(self._run, fn, *args, **kwargs)

    def _run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.running += 1
        try:
            return fn(*args, **kwargs)
        finally:
            self.running -= 1


def take_executor() -> RequestExecutor:
    """A single-thread executor for one request's thread-sensitive work (reused, so its
    thread keeps its persistent database connections like a WSGI worker thread)."""
    global _idle_pid
    with _idle_lock:
        if _idle_pid != os.getpid():  # after a fork the parent's threads are gone
            _idle.clear()
            _idle_pid = os.getpid()
        if _idle:
            return _idle.pop()
    return RequestExecutor()


def count_orphan(executor: RequestExecutor) -> None:
    """Count ``executor``'s thread in ``ORPHANS`` if it is still running the request's
    sync work (a sync view, a sync middleware step), until that work returns.  A
    cancelled async view runs nothing there and is not counted."""
    if executor.running:
        ORPHANS.inc()
        executor.submit(ORPHANS.dec)


def recycle(executor: RequestExecutor, deadline: Deadline | None = None) -> None:
    """Submitted to ``executor`` after a request: runs once its thread is idle (after an
    orphaned view has returned), takes the thread's connections off the request's
    ``deadline`` (the next request on this thread uses them; the watchdog must not cancel
    its queries for a deadline that passed), cleans up like ``request_finished`` and makes
    the executor available again."""
    from hardening.timeout.db import finish_thread

    def run() -> None:
        if deadline is not None:
            with deadline.lock:
                deadline.connections = []
        finish_thread()
        # The watchdog's view of this thread's connections for the next request.
        executor.hardening_connections = [connections[a] for a in connections]
        with _idle_lock:
            if len(_idle) < MAX_IDLE and _idle_pid == os.getpid():
                _idle.append(executor)
                return
        connections.close_all()
        executor.shutdown(wait=False)

    executor.submit(run)


class PooledASGIHandler(ASGIHandler):
    """Django's ASGI handler, with each request's thread-sensitive work (middleware
    outside TimeoutMiddleware, ``request_started``/``request_finished``) on a pooled,
    reused thread instead of a thread started and joined per request, and the hooks of
    known compute-only middleware on the event loop (``island.inline_hooks``)."""

    def load_middleware(self, is_async: bool = False) -> None:
        from django.core.handlers import base

        from hardening.timeout.island import inline_hooks

        # Start-up only (one thread): load_middleware imports each class through this name.
        namespace = vars(base)
        original = namespace["import_string"]
        namespace["import_string"] = lambda path: inline_hooks(original(path))
        try:
            super().load_middleware(is_async)
        finally:
            namespace["import_string"] = original

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            return await super().__call__(scope, receive, send)
        executor = take_executor()
        try:
            async with executor_context(executor):
                await super().__call__(scope, receive, send)
        finally:
            recycle(executor)
