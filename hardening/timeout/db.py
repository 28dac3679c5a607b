"""Database side of the deadline: statement timeouts, refusal after the deadline, cancel.

One execute wrapper per connection (installed from ``connection_created``, idempotent)
reads the current :class:`~hardening.timeout.deadline.Deadline`:

* no deadline: the query runs as is (a session timeout left by a request is reset first);
* deadline passed: :class:`DeadlineExceeded` is raised before the query is sent;
* PostgreSQL: ``statement_timeout`` is set to the milliseconds left -- ``SET LOCAL``
  inside a transaction (ends with it: safe with pgbouncer transaction pooling), plain
  ``SET`` in autocommit (mode ``"auto"`` only) and reset when the request finishes, so a
  persistent connection never keeps a request's timeout;
* while the query runs, the connection is registered on the deadline so the watchdog can
  cancel it from another thread (``psycopg`` ``cancel_safe()`` / ``sqlite3`` ``interrupt()``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from django.core.signals import request_finished
from django.db import DatabaseError, close_old_connections, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

from hardening.timeout.deadline import DeadlineExceeded, DeadlineInterrupt, current_deadline

logger = logging.getLogger("hardening.timeout")

_SESSION_FLAG = "_hardening_session_statement_timeout"
QUERY_CANCELED = "57014"
#: PostgreSQL's largest ``statement_timeout`` (milliseconds, a 32-bit int: about 24.8 days).
MAX_STATEMENT_TIMEOUT_MS = 2**31 - 1


class StatementTimeoutWrapper:
    """``connection.execute_wrapper`` that bounds each query by the time left."""

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        connection: BaseDatabaseWrapper = context["connection"]
        deadline = current_deadline()
        if deadline is None:
            if getattr(connection, _SESSION_FLAG, False):
                reset_session_timeout(connection)
            return execute(sql, params, many, context)
        if _is_control(sql):
            # Savepoint rollbacks and the like must always run, or a timed-out request
            # could not clean up; they are instant anyway.
            return execute(sql, params, many, context)
        left = deadline.remaining()
        if left <= 0:
            deadline.trip("deadline")
            raise DeadlineExceeded("deadline")
        # Registered before the SET too: on a hung database that round trip blocks as well.
        thread = threading.get_ident()
        with deadline.lock:
            deadline.running[thread] = (connection.vendor, connection.connection)
        interrupted = False
        try:
            _set_statement_timeout(connection, context, deadline.db_mode, left)
            return execute(sql, params, many, context)
        except DatabaseError as exc:
            if is_timeout_error(exc) or deadline.exceeded:
                deadline.trip("db")
            raise
        except DeadlineInterrupt:
            interrupted = True
            raise
        finally:
            # Taking the lock waits for a cancel the watchdog is sending right now.
            with deadline.lock:
                deadline.running.pop(thread, None)
            if interrupted:
                # The SIGALRM timer interrupted the driver mid-query (a hung database):
                # the connection's state is unknown, so it is closed, never reused.
                with contextlib.suppress(Exception):
                    connection.close()


def _set_statement_timeout(
    connection: BaseDatabaseWrapper, context: dict[str, Any], mode: str, left: float
) -> None:
    if connection.vendor != "postgresql" or mode == "off" or connection.needs_rollback:
        return  # (needs_rollback: Django refuses the query itself)
    # Never longer than the time left; at least 1 ms (0 would mean "no timeout"); at most
    # what the setting holds (an int: a longer budget would fail every query).
    milliseconds = min(max(1, int(left * 1000)), MAX_STATEMENT_TIMEOUT_MS)
    raw_cursor = context["cursor"].cursor
    if getattr(raw_cursor, "name", None):
        # A server-side cursor (QuerySet.iterator(), ModelChoiceIterator) declares a cursor
        # FOR the statement: SET there is a syntax error.  Same connection, client cursor.
        with connection.wrap_database_errors, connection.connection.cursor() as client:
            _set(connection, client, mode, milliseconds)
        return
    with connection.wrap_database_errors:
        _set(connection, raw_cursor, mode, milliseconds)


def _set(connection: BaseDatabaseWrapper, cursor: Any, mode: str, milliseconds: int) -> None:
    if connection.in_atomic_block or not connection.get_autocommit():
        cursor.execute(f"SET LOCAL statement_timeout = {milliseconds:d}")
    elif mode == "auto":
        cursor.execute(f"SET statement_timeout = {milliseconds:d}")
        setattr(connection, _SESSION_FLAG, True)


_CONTROL = ("ROLLBACK", "RELEASE", "SAVEPOINT", "COMMIT", "BEGIN", "START", "END", "RESET")


def _is_control(sql: Any) -> bool:
    return isinstance(sql, str) and sql.lstrip()[:10].upper().startswith(_CONTROL)


_wrapper = StatementTimeoutWrapper()


def _install_on(connection: BaseDatabaseWrapper) -> None:
    if not any(isinstance(w, StatementTimeoutWrapper) for w in connection.execute_wrappers):
        connection.execute_wrappers.append(_wrapper)


def _on_connection_created(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    _install_on(connection)


def reset_session_timeout(connection: BaseDatabaseWrapper) -> None:
    """Undo a session-level ``SET statement_timeout`` made for a request."""
    setattr(connection, _SESSION_FLAG, False)
    if connection.connection is None:
        return
    try:
        with connection.connection.cursor() as cursor:
            cursor.execute("RESET statement_timeout")
    except Exception:  # noqa: BLE001 - a broken connection is Django's to discard
        logger.debug("could not reset statement_timeout", exc_info=True)


def _on_request_finished(sender: Any, **kwargs: Any) -> None:
    # Runs in the thread that owns the connections (under ASGI: the request's
    # thread-sensitive thread, after a timed-out sync view has finished).
    for connection in connections.all(initialized_only=True):
        if getattr(connection, _SESSION_FLAG, False) and not connection.in_atomic_block:
            reset_session_timeout(connection)


def finish_thread() -> None:
    """``request_finished``'s connection clean-up for this thread's connections (the
    ASGI middleware runs the view's stack in a thread of its own)."""
    close_old_connections()
    _on_request_finished(None)


def install() -> None:
    """Install the wrapper on every future connection and this thread's open ones."""
    connection_created.connect(_on_connection_created, dispatch_uid="hardening.timeout")
    request_finished.connect(_on_request_finished, dispatch_uid="hardening.timeout")
    for connection in connections.all(initialized_only=True):
        _install_on(connection)


def is_timeout_error(exc: BaseException) -> bool:
    """True for :class:`DeadlineExceeded` (or ``DeadlineInterrupt``) and for a query
    cancelled by a statement timeout or a cancel request (SQLSTATE 57014, psycopg
    ``QueryCanceled``; sqlite3 "interrupted"), wrapped or not by Django's
    ``OperationalError``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (DeadlineExceeded, DeadlineInterrupt)):
            return True
        code = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if code == QUERY_CANCELED:
            return True
        if type(current).__module__ == "sqlite3" and str(current) == "interrupted":
            return True
        current = current.__cause__ or current.__context__
    return False


#: Seconds a cancel request may take before it counts as failed (a hung database).
CANCEL_TIMEOUT = 0.25


def cancel_running(running: list[tuple[str, Any]]) -> tuple[int, int]:
    """Cancel in-flight queries from another thread; returns ``(cancelled, failed)``.

    A PostgreSQL cancel that fails or does not finish within :data:`CANCEL_TIMEOUT`
    means the server does not answer: the connection's socket is then shut down, which
    ends the blocked query in its thread at once (the connection is discarded).
    """
    cancelled = failed = 0
    for vendor, raw in running:
        if raw is None:
            continue
        try:
            if vendor == "postgresql":
                cancel = getattr(raw, "cancel_safe", None)
                if cancel is not None:
                    cancel(timeout=CANCEL_TIMEOUT)  # psycopg >= 3.2: bounded
                else:
                    raw.cancel()
            elif vendor == "sqlite":
                raw.interrupt()
            else:
                continue
            cancelled += 1
        except Exception:  # noqa: BLE001 - hung server, or the query just finished
            if vendor == "postgresql" and not getattr(raw, "closed", True):
                failed += 1
                sever(raw)
            else:
                logger.debug("could not cancel a query", exc_info=True)
    return cancelled, failed


def busy_connections(wrappers: list[Any], known: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """PostgreSQL connections among ``wrappers`` with a command in progress that the
    execute wrapper did not register (``CONN_HEALTH_CHECKS``' ping, raw cursors)."""
    seen = {id(raw) for _, raw in known}
    busy = []
    for wrapper in wrappers:
        raw = getattr(wrapper, "connection", None)
        if wrapper.vendor != "postgresql" or raw is None or id(raw) in seen:
            continue
        with contextlib.suppress(Exception):
            if int(raw.pgconn.transaction_status) == _ACTIVE:
                busy.append(("postgresql", raw))
    return busy


_ACTIVE = 1  # libpq PQTRANS_ACTIVE: a command is in progress


def sever(raw: Any) -> None:
    """Shut down a psycopg connection's socket (thread-safe: the blocked reader in the
    query's thread gets EOF and raises ``OperationalError``)."""
    with contextlib.suppress(Exception):
        fd = int(raw.pgconn.socket)
        sock = socket.socket(fileno=os.dup(fd))
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.close()


def rollback_connections() -> None:
    """Roll back what a timed-out request left open on this thread's connections; close
    one left in the middle of a command (the SIGALRM timer interrupted the wait for its
    reply): its state is unknown, so it is never reused."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is None:
            continue
        if busy_connections([connection], []):
            with contextlib.suppress(Exception):
                connection.close()
            continue
        with contextlib.suppress(DatabaseError):
            if connection.in_atomic_block:
                connection.set_rollback(True)
            elif not connection.autocommit:
                connection.rollback()
