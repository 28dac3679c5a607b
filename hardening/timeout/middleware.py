"""``TimeoutMiddleware``: a deadline per request and a 504 JSON error when it passes.

* ASGI (async mode): the rest of the stack runs as a task on a pooled thread of its own
  (so middleware outside never waits for a busy view thread), awaited with a timeout; at
  the deadline the task is cancelled and the 504 is sent at once.  For a sync view the
  stack below runs in one thread hop (:mod:`hardening.timeout.island`).  A sync view keeps
  running in its thread (threads cannot be stopped safely), but its queries are cancelled
  and refused by the database layer (:mod:`hardening.timeout.db`).
* WSGI in the main thread (gunicorn sync): a ``SIGALRM`` timer raises
  ``DeadlineInterrupt`` (a ``BaseException``: ``except Exception`` cannot swallow it) in
  the view at the deadline, caught here (when nothing else uses ``SIGALRM``; see
  :mod:`hardening.timeout.alarm` and docs/timeouts.md for why that is safe).
* WSGI in other threads (gunicorn gthread): the rest of the stack runs in a helper
  thread (:mod:`hardening.timeout.runner`) and this thread answers 504 at the deadline.
* Everywhere: the watchdog cancels the in-flight query, the ORM refuses new ones and
  ``check_deadline()`` stops cooperative code.  ``DeadlineExceeded`` or ``QueryCanceled``
  (SQLSTATE 57014) becomes a 504; open transactions are rolled back.

A response is only ever replaced before this middleware returns it, so one that has
started (streaming) is never touched, and streaming bodies run without a deadline.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connections
from django.http import HttpRequest, HttpResponseBase

from hardening.context import current_request_id
from hardening.errors import error_response
from hardening.observability.audit import audit
from hardening.observability.metrics import TIMEOUTS
from hardening.request import GetResponse, HardeningMiddleware, state
from hardening.timeout.alarm import arm_alarm, budget_changed
from hardening.timeout.conf import budget_for_path, config
from hardening.timeout.db import is_timeout_error, rollback_connections
from hardening.timeout.deadline import (
    Deadline,
    DeadlineExceeded,
    DeadlineInterrupt,
    activate,
    current_deadline,
    deactivate,
    view_budget,
)
from hardening.timeout.island import SyncIsland, build, is_sync_view
from hardening.timeout.runner import (
    RequestExecutor,
    count_orphan,
    executor_context,
    recycle,
    run_with_deadline,
    take_executor,
)
from hardening.timeout.watchdog import watchdog

MIDDLEWARE_PATH = "hardening.middleware.TimeoutMiddleware"

#: The most an async request waits between two looks at its (possibly changed) deadline.
_POLL = 1.0


def timeout_response(
    request: HttpRequest | None, deadline: Deadline | None, kind: str
) -> HttpResponseBase:
    """Count, audit and answer a request that ran out of time (kind: deadline, db,
    asgi, signal)."""
    TIMEOUTS.labels(kind=kind).inc()
    fields: dict[str, Any] = {"kind": kind}
    if deadline is not None:
        fields["budget_s"] = deadline.budget
        fields["elapsed_ms"] = round(deadline.elapsed() * 1000)
    audit("timeout.exceeded", request=request, **fields)
    return error_response(
        504, "timeout", "The request took longer than its time budget and was stopped."
    )


def _should_replace(deadline: Deadline, response: HttpResponseBase) -> bool:
    # An error raised by an inner middleware past the deadline was already turned into
    # a 500 by Django's handler; the view's own exceptions reach process_exception.
    return (
        deadline.exceeded is not None
        and response.status_code == 500
        and not getattr(response, "streaming", False)
    )


def _consume(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def _wait(deadline: Deadline, done: threading.Event) -> bool:
    """Wait for the helper thread until the (possibly changed) deadline; True if done."""
    while True:
        if not deadline.active:  # @request_timeout(None)
            done.wait()
            return True
        if done.wait(min(deadline.remaining(), _POLL)):
            return True
        if deadline.expired():
            return done.is_set()


class TimeoutMiddleware(HardeningMiddleware):
    def __init__(self, get_response: GetResponse) -> None:
        super().__init__(get_response)
        self._island: SyncIsland | None = None
        if self.async_mode:
            self._island = build(MIDDLEWARE_PATH, self.process_view, self.process_exception)
            # Django adapts process_view to the handler's mode; give it a native one.
            self.process_view = self._aprocess_view  # type: ignore[method-assign,assignment]

    def _start(self, request: HttpRequest) -> Deadline | None:
        budget = budget_for_path(request.path_info)
        if budget is None:
            return None
        deadline = Deadline(
            budget=budget,
            db_mode=config().db_mode,
            thread_id=threading.get_ident(),
            request_id=current_request_id(),
        )
        # The ContextVar (activate) is what follows the request into threads and tasks;
        # the request's state carries the same object for code that holds the request.
        state(request).deadline = deadline
        return deadline

    # -- sync (WSGI) -----------------------------------------------------------------

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        deadline = self._start(request)
        if deadline is None:
            return self.get_response(request)
        deadline.connections = [connections[alias] for alias in connections]
        token = activate(deadline)
        watchdog.register(deadline)
        mode = config()
        alarm = arm_alarm(deadline) if mode.signal else None
        in_helper = (
            alarm is None
            and mode.thread
            and threading.current_thread() is not threading.main_thread()
        )
        response: HttpResponseBase | None = None
        finished = True
        kind = "deadline"
        try:
            if in_helper:
                finished, response = run_with_deadline(
                    lambda: self.get_response(request), lambda done: _wait(deadline, done)
                )
            elif alarm is not None:
                response = alarm.run(lambda: self.get_response(request))
            else:
                response = self.get_response(request)
        except DeadlineInterrupt as exc:  # the SIGALRM timer stopped the request's code
            kind = exc.kind
        finally:
            if alarm is not None:
                alarm.disarm()
            if finished:
                with deadline.lock:
                    deadline.active = False
                watchdog.unregister(deadline)
            deactivate(token)
        if not finished:
            # The helper thread keeps this request's connections (and rolls back on its
            # own); the deadline stays active so its queries are cancelled and refused.
            deadline.trip("thread")
            return timeout_response(request, deadline, "thread")
        if response is None:
            if alarm is not None:
                alarm.report()
            rollback_connections()
            return timeout_response(request, deadline, kind)
        if _should_replace(deadline, response):
            rollback_connections()
            return timeout_response(request, deadline, deadline.exceeded or kind)
        return response

    # -- async (ASGI) ----------------------------------------------------------------

    async def __acall__(self, request: HttpRequest) -> Any:
        deadline = self._start(request)
        if deadline is None:
            return await self.get_response(request)
        deadline.thread_id = None  # sync work runs in other threads
        token = activate(deadline)
        watchdog.register(deadline)
        executor = take_executor()
        deadline.connections = executor.hardening_connections
        try:
            # The task copies the context, so the view and its threads see the deadline.
            task = asyncio.ensure_future(self._inner(request, executor))
            while True:
                if not deadline.active:  # @request_timeout(None)
                    await asyncio.wait({task})
                    break
                done, _ = await asyncio.wait({task}, timeout=min(deadline.remaining(), _POLL))
                if done or deadline.expired():
                    break
        except asyncio.CancelledError:  # the client went away: Django cancels us
            task.cancel()
            raise
        finally:
            deactivate(token)
            if not task.done():  # sync work still running in its thread: counted
                count_orphan(executor)
            recycle(executor, deadline)
        if task.done():
            with deadline.lock:
                deadline.active = False
            watchdog.unregister(deadline)
            response = task.result()
            if _should_replace(deadline, response):
                return await self._atimeout_response(request, deadline, deadline.exceeded)
            return response
        # Past the deadline: answer now.  The deadline stays registered and active so the
        # watchdog cancels the orphaned thread's query and the ORM refuses further ones.
        deadline.trip("asgi")
        task.cancel()
        task.add_done_callback(_consume)
        return await self._atimeout_response(request, deadline, "asgi")

    async def _inner(self, request: HttpRequest, executor: RequestExecutor) -> Any:
        # Sync code inside this middleware gets a thread of its own, not the request's
        # thread-sensitive one: middleware outside it (SecurityMiddleware,
        # django-prometheus) then never waits for a timed-out view's thread.
        async with executor_context(executor):
            if self._island is not None and is_sync_view(request):
                # One hop for the whole sync stack (hardening.timeout.island).
                return await sync_to_async(self._island)(request)
            return await self.get_response(request)

    async def _atimeout_response(
        self, request: HttpRequest, deadline: Deadline, kind: str | None
    ) -> HttpResponseBase:
        # Not thread-sensitive: that thread may still be busy with the timed-out view.
        return await sync_to_async(timeout_response, thread_sensitive=False)(
            request, deadline, kind or "deadline"
        )

    # -- hooks -----------------------------------------------------------------------

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> None:
        self._apply_view_budget(view_func)

    async def _aprocess_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> None:
        self._apply_view_budget(view_func)

    def _apply_view_budget(self, view_func: Any) -> None:
        deadline = current_deadline()
        if deadline is None:
            return
        overridden, seconds = view_budget(view_func)
        if not overridden:
            return
        if seconds is None:
            with deadline.lock:
                deadline.disable()
            watchdog.unregister(deadline)
        else:
            deadline.set_budget(seconds)
            watchdog.changed()
            budget_changed(deadline)

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        """Runs in the view's thread (Django adapts it), so rollback hits the right
        connections."""
        if not is_timeout_error(exception):
            return None
        deadline = current_deadline()
        kind = exception.kind if isinstance(exception, DeadlineExceeded) else "db"
        if deadline is not None:
            deadline.trip(kind)
            kind = deadline.exceeded or kind
        rollback_connections()
        return timeout_response(request, deadline, kind)
