from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from asgiref.sync import sync_to_async
from django.db import OperationalError, connection, connections, transaction
from django.test import AsyncClient, Client

from hardening.timeout import DeadlineExceeded, deadline_scope
from hardening.timeout.db import StatementTimeoutWrapper, install, is_timeout_error
from tests.timeout.helpers import timeout_settings, timeouts

pytestmark = pytest.mark.timeout(60)


def statement_timeout_ms() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'")
        return int(cursor.fetchone()[0])


def show_statement_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return str(cursor.fetchone()[0])


@pytest.mark.django_db
def test_wrapper_is_installed_once() -> None:
    connection.ensure_connection()
    install()
    install()
    wrappers = [w for w in connection.execute_wrappers if isinstance(w, StatementTimeoutWrapper)]
    assert len(wrappers) == 1


@pytest.mark.django_db
def test_query_after_the_deadline_is_refused() -> None:
    with deadline_scope(0.05) as deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        while not deadline.expired():
            time.sleep(0.01)
        with pytest.raises(DeadlineExceeded), connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    assert deadline.exceeded == "deadline"
    with connection.cursor() as cursor:  # no deadline: runs
        cursor.execute("SELECT 1")


@pytest.mark.django_db(transaction=True)
@timeout_settings(0.3)
def test_watchdog_interrupts_a_long_sqlite_query() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite interrupt() path")
    before = timeouts("db")
    started = time.monotonic()
    response = Client().get("/sqlite-spin")
    assert response.status_code == 504
    assert time.monotonic() - started < 2
    assert timeouts("db") == before + 1
    assert Client().get("/ok").status_code == 200


def test_is_timeout_error() -> None:
    class Canceled(Exception):
        sqlstate = "57014"

    try:
        try:
            raise Canceled
        except Canceled as inner:
            raise OperationalError("x") from inner
    except OperationalError as exc:
        assert is_timeout_error(exc)
    assert is_timeout_error(DeadlineExceeded())
    assert not is_timeout_error(OperationalError("connection refused"))


# -- PostgreSQL ----------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_query_is_cancelled_at_the_time_left() -> None:
    started = time.monotonic()
    with (
        deadline_scope(0.3) as deadline,
        pytest.raises(OperationalError) as info,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT pg_sleep(5)")
    assert time.monotonic() - started < 1.5
    assert is_timeout_error(info.value)
    assert getattr(info.value.__cause__, "sqlstate", None) == "57014"
    assert deadline.exceeded == "db"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_set_local_inside_a_transaction_ends_with_it() -> None:
    original = statement_timeout_ms()
    with transaction.atomic(), deadline_scope(10):
        inside = statement_timeout_ms()
    assert 9000 < inside <= 10000
    assert statement_timeout_ms() == original  # SET LOCAL ended with the transaction


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@timeout_settings(5)
def test_postgres_session_timeout_is_reset_after_the_request() -> None:
    original = show_statement_timeout()
    assert Client().get("/pg-sleep?s=0").status_code == 200
    assert show_statement_timeout() == original


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@timeout_settings(0.5)
def test_postgres_view_past_deadline_is_504_and_the_next_request_works() -> None:
    started = time.monotonic()
    response = Client().get("/pg-sleep?s=10")
    assert response.status_code == 504
    assert time.monotonic() - started < 1.5
    assert Client().get("/pg-sleep?s=0").status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@timeout_settings(0.5, HARDENING_REQUEST_TIMEOUT_DB="off")
def test_postgres_watchdog_cancels_without_statement_timeout() -> None:
    started = time.monotonic()
    response = Client().get("/pg-sleep?s=10")
    assert response.status_code == 504
    assert time.monotonic() - started < 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_broken_transaction_still_gives_djangos_error() -> None:
    from django.db import DatabaseError
    from django.db.transaction import TransactionManagementError

    with deadline_scope(10), transaction.atomic():
        with (
            pytest.raises(DatabaseError),
            transaction.atomic(savepoint=False),
            connection.cursor() as cursor,
        ):
            cursor.execute("SELECT * FROM no_such_table_hardening")
        with pytest.raises(TransactionManagementError), connection.cursor() as cursor:
            cursor.execute("SELECT 1")


@pytest.mark.django_db(transaction=True)
@timeout_settings(0.2)
async def test_asgi_orphaned_sync_view_cannot_query_after_the_deadline() -> None:
    from tests.timeout import urls

    urls.ORPHAN_OUTCOMES.clear()
    started = time.monotonic()
    response = await AsyncClient().get("/sleep-then-query")
    assert response.status_code == 504
    assert time.monotonic() - started < 0.55  # answered before the view woke up
    stop = time.monotonic() + 5
    while not urls.ORPHAN_OUTCOMES and time.monotonic() < stop:
        await asyncio.sleep(0.02)
    assert urls.ORPHAN_OUTCOMES == ["refused"]
    # The view's thread opened a connection; close it there (the real ASGI handler does
    # this through request_finished once the view returns).
    await sync_to_async(connections.close_all)()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("atomic", [True, False])
def test_postgres_server_side_cursor_under_a_deadline(atomic: bool) -> None:
    """QuerySet.iterator() (ModelChoiceIterator: every admin form with a ForeignKey select)
    runs on a server-side cursor, where ``SET`` is a syntax error: the timeout is set on a
    client-side cursor of the same connection instead."""
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("iterated")
    scope = transaction.atomic() if atomic else contextlib.nullcontext()
    with scope, deadline_scope(10):
        names = [user.username for user in get_user_model().objects.iterator(chunk_size=10)]
        inside = statement_timeout_ms()
    assert names == ["iterated"]
    assert 9000 < inside <= 10000
