"""The per-request deadline, kept in a ContextVar.

A ContextVar follows the request into ``sync_to_async`` threads and ``asyncio`` tasks, and
database connections are per thread, so every piece of code that serves a request (view,
ORM execute wrapper, watchdog registration) finds the same :class:`Deadline` object.

Internal: import from :mod:`hardening.timeout`.  Application code uses
:func:`check_deadline` for its own loops, and :func:`~hardening.timeout.budget` for the
timeouts of outgoing calls::

    import httpx

    from hardening.timeout import budget, check_deadline

    for item in batch:
        check_deadline()          # raises DeadlineExceeded -> 504
        process(item)
    httpx.get(url, timeout=budget(10))  # min(10, time left); refused once it has passed

(Not ``remaining() or 10``: :func:`remaining` is ``0.0`` once the deadline has passed.)
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hardening import clock
from hardening.timeout.conf import parse_seconds

_F = TypeVar("_F", bound=Callable[..., Any])

#: Attribute set on views by :func:`request_timeout`.
VIEW_ATTRIBUTE = "hardening_request_timeout"


class DeadlineExceeded(Exception):  # noqa: N818 - public name used in docs
    """The current request's time budget is used up; the middleware answers 504."""

    def __init__(self, kind: str = "deadline") -> None:
        super().__init__(f"request deadline exceeded ({kind})")
        self.kind = kind


class DeadlineInterrupt(BaseException):
    """Raised by the ``SIGALRM`` timer (gunicorn sync workers) where the view's code is
    when its deadline passes; ``TimeoutMiddleware`` answers 504.

    A ``BaseException``, like ``KeyboardInterrupt``: ``except Exception`` in a view cannot
    swallow it.  ``transaction.atomic`` rolls back on it and ``finally`` blocks run, but
    Django does not turn it into a response, so middleware listed after
    ``TimeoutMiddleware`` sees no response step for that request.  Never raise it
    yourself: use :func:`check_deadline`.
    """

    def __init__(self, kind: str = "signal") -> None:
        super().__init__(f"request deadline exceeded ({kind})")
        self.kind = kind


@dataclass(eq=False)
class Deadline:
    """A monotonic deadline and what is running under it.

    Its times are read from :func:`hardening.clock.monotonic` (the one clock seam), and so
    are those of everything that compares with them (the watchdog, the ``SIGALRM``
    handler).  What waits for it (the ``SIGALRM`` itimer, the watchdog's and the
    middleware's bounded waits) sleeps in real seconds: the durations handed to them come
    from :meth:`remaining`, which is real time in production (the seam is
    ``time.monotonic``).  A test that freezes the clock moves the deadline itself
    (:meth:`set_budget`); the timers then only look again.

    ``running`` maps a thread id to ``(vendor, raw DB-API connection)`` while that thread
    executes a query for the request, so the watchdog can cancel it from its own thread.
    """

    budget: float
    db_mode: str = "auto"
    started: float = field(default_factory=lambda: clock.monotonic())
    expires: float = 0.0
    active: bool = True
    exceeded: str | None = None
    thread_id: int | None = None
    request_id: str | None = None
    running: dict[int, tuple[str, Any]] = field(default_factory=dict)
    #: The Django connections the request's thread holds (for the watchdog: a health
    #: check or a query outside the execute wrapper can hang on a dead database too).
    connections: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.expires = self.started + self.budget

    def remaining(self) -> float:
        return max(0.0, self.expires - clock.monotonic())

    def overdue(self) -> float:
        """Seconds since the deadline passed (negative before it)."""
        return clock.monotonic() - self.expires

    def expired(self) -> bool:
        return clock.monotonic() >= self.expires

    def elapsed(self) -> float:
        return clock.monotonic() - self.started

    def set_budget(self, seconds: float) -> None:
        """Change the budget, counted from the start of the request."""
        self.budget = seconds
        self.expires = self.started + seconds

    def disable(self) -> None:
        """No deadline after all (``@request_timeout(None)``)."""
        self.active = False
        self.expires = math.inf

    def trip(self, kind: str) -> None:
        """Remember the first reason this request ran out of time."""
        if self.exceeded is None:
            self.exceeded = kind


_deadline: ContextVar[Deadline | None] = ContextVar("hardening_deadline", default=None)


def activate(deadline: Deadline) -> Token[Deadline | None]:
    """Make ``deadline`` the current one (the middleware does this per request)."""
    return _deadline.set(deadline)


def deactivate(token: Token[Deadline | None]) -> None:
    _deadline.reset(token)


def current_deadline() -> Deadline | None:
    """The deadline of the request being served, or None (no request, or exempt)."""
    deadline = _deadline.get()
    return deadline if deadline is not None and deadline.active else None


def remaining() -> float | None:
    """Seconds left before the current request's deadline (0.0 when passed), or None
    when no deadline applies.  Use it for timeouts of outgoing calls."""
    deadline = current_deadline()
    return None if deadline is None else deadline.remaining()


def check_deadline() -> None:
    """Raise :class:`DeadlineExceeded` when the current request has no time left."""
    deadline = current_deadline()
    if deadline is not None and deadline.expired():
        deadline.trip("deadline")
        raise DeadlineExceeded("deadline")


@contextlib.contextmanager
def deadline_scope(seconds: float, *, db_mode: str = "auto") -> Iterator[Deadline]:
    """Run a block under a deadline outside a request (tasks, commands, tests).

    Database queries in the block get a statement timeout and are refused once the time
    is up, exactly as in a request.  The watchdog is not involved.
    """
    deadline = Deadline(budget=seconds, db_mode=db_mode, thread_id=threading.get_ident())
    token = _deadline.set(deadline)
    try:
        yield deadline
    finally:
        deadline.active = False
        _deadline.reset(token)


def request_timeout(seconds: float | None) -> Callable[[_F], _F]:
    """View decorator: a different budget for this view (``None`` or ``0``: no deadline).

    ``@request_timeout(120)`` for an upload view, ``@request_timeout(None)`` for a view
    that streams.  The budget still counts from the start of the request.  A value that is
    not a number of seconds raises ``ValueError`` / ``TypeError`` here, when the view's
    module is imported, never in a request.
    """
    budget = parse_seconds(seconds)

    def decorate(view: _F) -> _F:
        setattr(view, VIEW_ATTRIBUTE, budget)
        return view

    return decorate


def view_budget(view: Callable[..., Any]) -> tuple[bool, float | None]:
    """``(True, seconds or None)`` when :func:`request_timeout` decorates ``view`` (or a
    class-based view's ``view_class`` / DRF's ``cls``), else ``(False, None)``."""
    for target in (view, getattr(view, "view_class", None), getattr(view, "cls", None)):
        if target is not None and hasattr(target, VIEW_ATTRIBUTE):
            return True, getattr(target, VIEW_ATTRIBUTE)
    return False, None
