"""The database side of the deadline at its edges (hardening.timeout.db): a query interrupted
mid-flight closes its connection; ``local`` mode never leaves a session timeout; resetting
a session timeout on a closed or broken connection; rolling back a manual transaction;
cancelling from another thread (a real SQLite ``interrupt()``, a driver without
``cancel_safe()``, vendors it cannot cancel)."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, connections, transaction

from hardening.timeout import deadline_scope
from hardening.timeout.db import (
    _SESSION_FLAG,
    cancel_running,
    install,
    is_timeout_error,
    reset_session_timeout,
    rollback_connections,
)
from hardening.timeout.deadline import DeadlineInterrupt

pytestmark = pytest.mark.timeout(60)


def statement_timeout_ms() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
        return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_a_query_interrupted_by_the_alarm_closes_its_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The SIGALRM timer raises DeadlineInterrupt inside the driver's wait: the connection's
    state is unknown, so it is closed, never handed to the next query."""
    connection.ensure_connection()
    install()
    raw = connection.connection
    closes: list[bool] = []
    real_close = connection.close

    def close() -> None:
        closes.append(True)
        real_close()

    monkeypatch.setattr(connection, "close", close)

    def alarm(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        raise DeadlineInterrupt("signal")

    with deadline_scope(10) as deadline, connection.execute_wrapper(alarm):
        with pytest.raises(DeadlineInterrupt), connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        assert deadline.running == {}  # no longer offered to the watchdog
    assert closes == [True]
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        return  # Django never closes an in-memory database (it would be lost)
    assert connection.connection is None
    with connection.cursor() as cursor:  # the next query gets a new connection
        cursor.execute("SELECT 1")
    assert connection.connection is not raw


@pytest.mark.django_db(transaction=True)
def test_a_database_error_unrelated_to_time_is_not_a_timeout() -> None:
    with deadline_scope(10) as deadline:
        with pytest.raises(Exception) as info, connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table_hardening")
        assert deadline.running == {}
    assert not is_timeout_error(info.value)
    assert deadline.exceeded is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_local_mode_sets_no_session_timeout_in_autocommit() -> None:
    """``local`` (pgbouncer transaction pooling): only ``SET LOCAL``, inside a transaction;
    a session-level SET would stay on a server connection another client gets next."""
    original = statement_timeout_ms()
    with deadline_scope(10, db_mode="local"):
        assert statement_timeout_ms() == original
        assert not getattr(connection, _SESSION_FLAG, False)
        with transaction.atomic():
            inside = statement_timeout_ms()
    assert 9000 < inside <= 10000
    assert statement_timeout_ms() == original


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_auto_mode_sets_then_resets_a_session_timeout() -> None:
    original = statement_timeout_ms()
    with deadline_scope(10):
        assert 9000 < statement_timeout_ms() <= 10000
        assert getattr(connection, _SESSION_FLAG) is True
    # The first query without a deadline resets it before it runs.
    assert statement_timeout_ms() == original
    assert getattr(connection, _SESSION_FLAG) is False


def test_resetting_on_a_closed_connection_only_clears_the_flag(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unopened = connections.create_connection("default")
    setattr(unopened, _SESSION_FLAG, True)
    with caplog.at_level(logging.DEBUG, logger="hardening.timeout"):
        reset_session_timeout(unopened)  # must not open a connection to reset nothing
    assert getattr(unopened, _SESSION_FLAG) is False
    assert unopened.connection is None
    assert not [r for r in caplog.records if r.name == "hardening.timeout"]  # nothing tried


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_a_failed_reset_is_logged_and_left_to_django(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with deadline_scope(10):
        statement_timeout_ms()
    # (the flag is set again to test the reset itself on a connection that broke)
    setattr(connection, _SESSION_FLAG, True)
    connection.connection.close()  # the server went away under Django
    with caplog.at_level(logging.DEBUG, logger="hardening.timeout"):
        reset_session_timeout(connection)
    assert getattr(connection, _SESSION_FLAG) is False
    logged = [r for r in caplog.records if r.name == "hardening.timeout"]
    assert [r.getMessage() for r in logged] == ["could not reset statement_timeout"]
    assert logged[0].levelno == logging.DEBUG and logged[0].exc_info
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_rollback_connections_rolls_back_a_manual_transaction() -> None:
    users = get_user_model().objects
    transaction.set_autocommit(False)
    try:
        users.create_user("left-open")
        rollback_connections()
    finally:
        transaction.set_autocommit(True)
    assert not users.filter(username="left-open").exists()


@pytest.mark.django_db(transaction=True)
def test_rollback_connections_marks_an_atomic_block_for_rollback() -> None:
    users = get_user_model().objects
    with transaction.atomic():
        users.create_user("in-atomic")
        rollback_connections()
        assert transaction.get_rollback() is True
    assert not users.filter(username="in-atomic").exists()


# -- cancel_running ------------------------------------------------------------------------


Running = tuple[sqlite3.Connection, threading.Thread, list[BaseException]]


@pytest.fixture
def sqlite_query() -> Iterator[Running]:
    """A real SQLite connection running a query that would take minutes, in a thread."""
    raw = sqlite3.connect(":memory:", check_same_thread=False)
    started = threading.Event()
    errors: list[BaseException] = []

    def progress() -> int:
        started.set()
        return 0  # go on

    raw.set_progress_handler(progress, 1000)

    def run() -> None:
        try:
            raw.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
                "SELECT count(*) FROM n"
            ).fetchall()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10), "the query did not start"
    yield raw, thread, errors
    raw.interrupt()
    thread.join(10)
    assert not thread.is_alive()
    raw.close()


def test_cancel_interrupts_a_running_sqlite_query(sqlite_query: Running) -> None:
    raw, thread, errors = sqlite_query
    assert cancel_running([("sqlite", raw)]) == (1, 0)
    thread.join(10)  # bounded: the query ends at once when interrupted
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], sqlite3.OperationalError)
    assert is_timeout_error(errors[0])
    try:  # as Django's wrapper raises it
        raise OperationalError(*errors[0].args) from errors[0]
    except OperationalError as wrapped:
        assert is_timeout_error(wrapped)
    assert not is_timeout_error(sqlite3.OperationalError("database is locked"))


def test_cancel_skips_what_it_cannot_cancel(caplog: pytest.LogCaptureFixture) -> None:
    closed = sqlite3.connect(":memory:")
    closed.close()

    class OracleConnection:
        def cancel(self) -> None:  # pragma: no cover - never called
            raise AssertionError("only PostgreSQL and SQLite are cancelled")

    with caplog.at_level(logging.DEBUG, logger="hardening.timeout"):
        outcome = cancel_running(
            [("postgresql", None), ("oracle", OracleConnection()), ("sqlite", closed)]
        )
    assert outcome == (0, 0)  # nothing cancelled, and none is a hung server
    logged = [r.getMessage() for r in caplog.records if r.name == "hardening.timeout"]
    assert logged == ["could not cancel a query"]  # the closed SQLite connection


class LegacyPostgres:
    """A DB-API connection with ``cancel()`` only (psycopg2, psycopg < 3.2)."""

    def __init__(self, *, fails: bool = False, closed: bool = False) -> None:
        self.cancelled, self.fails, self.closed = 0, fails, closed

    def cancel(self) -> None:
        if self.fails:
            raise OSError("the query just finished")
        self.cancelled += 1


def test_cancel_uses_plain_cancel_without_cancel_safe(caplog: pytest.LogCaptureFixture) -> None:
    legacy = LegacyPostgres()
    assert cancel_running([("postgresql", legacy)]) == (1, 0)
    assert legacy.cancelled == 1
    # A cancel that fails on a connection already closed is not a hung server.
    finished = LegacyPostgres(fails=True, closed=True)
    with caplog.at_level(logging.DEBUG, logger="hardening.timeout"):
        assert cancel_running([("postgresql", finished)]) == (0, 0)
    assert [r.getMessage() for r in caplog.records] == ["could not cancel a query"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("atomic", [True, False])
def test_postgres_a_budget_beyond_the_largest_statement_timeout_is_capped(atomic: bool) -> None:
    """statement_timeout is an int of milliseconds (at most 2147483647, about 24.8 days):
    a longer budget, which the settings accept, must not make every query a DataError."""
    scope = transaction.atomic() if atomic else contextlib.nullcontext()
    with scope, deadline_scope(30 * 86400):  # 30 days
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
        assert statement_timeout_ms() == 2**31 - 1
