"""The SIGALRM timer of gunicorn sync workers, in process with real signals.

Its interruption cannot be swallowed by ``except Exception`` and still becomes the 504
(with the request ID, audit and metric, ATOMIC_REQUESTS rolled back), and it is put off
while the main thread is inside code an exception must not land in: a logging handler's
lock, the wait for a COMMIT reply, threading internals, the import system.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.signals import request_finished
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client, override_settings

from hardening.timeout.alarm import MAX_DEFER
from tests.timeout.alarm_urls import HUNG_HANDLER, LOG_HANDLER, REACHED, SLOW_IMPORT, alarm_now
from tests.timeout.helpers import audited, timeouts

pytestmark = pytest.mark.timeout(60)


def alarm_settings(seconds: float = 5) -> override_settings:
    """The example's middleware, a plain one after it, the views of ``alarm_urls``.  The
    budget is long: the views pass their deadline themselves and send SIGALRM where the
    test needs it."""
    return override_settings(
        ROOT_URLCONF="tests.timeout.alarm_urls",
        MIDDLEWARE=[*settings.MIDDLEWARE, "tests.timeout.alarm_urls.Recorder"],
        HARDENING_REQUEST_TIMEOUT=seconds,
    )


@pytest.fixture(autouse=True)
def _clean(free_sigalrm: None) -> Iterator[None]:
    REACHED.clear()
    yield
    REACHED.clear()
    # The timer is disarmed and SIGALRM handed back after every request.
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def get(path: str) -> tuple[Any, float]:
    started = time.monotonic()
    response = Client().get(path)
    return response, time.monotonic() - started


def body(response: Any) -> dict[str, Any]:
    data = json.loads(response.content)
    assert isinstance(data, dict)
    return data


def lock_is_free(lock: Any) -> bool:
    """True when another thread can take ``lock`` (an RLock is re-entrant for its owner)."""
    got: list[bool] = []

    def take() -> None:
        got.append(lock.acquire(timeout=1))
        if got[0]:
            lock.release()

    thread = threading.Thread(target=take)
    thread.start()
    thread.join(5)
    return got == [True]


@pytest.mark.django_db(transaction=True)
def test_except_exception_cannot_swallow_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    finished: list[object] = []

    def on_finished(sender: object, **kwargs: object) -> None:
        finished.append(sender)

    request_finished.connect(on_finished)
    before = timeouts("signal")
    try:
        with alarm_settings(0.3), audited() as events:
            response, elapsed = get("/swallow")
    finally:
        request_finished.disconnect(on_finished)
    assert response.status_code == 504, response.content
    assert elapsed < 2  # the 0.3 s deadline, not the view's 5 s
    data = body(response)
    assert data["error"] == "timeout"
    assert data["request_id"] == response["X-Request-ID"]
    assert timeouts("signal") == before + 1
    assert [e["kind"] for e in events if e["event"] == "timeout.exceeded"] == ["signal"]
    # The view's catch-all never ran; a middleware after TimeoutMiddleware ran its
    # ``finally`` but not its response step (as for KeyboardInterrupt).
    assert REACHED == ["recorder: request", "recorder: finally"]
    assert not Group.objects.filter(name="written").exists()  # ATOMIC_REQUESTS rolled back
    assert len(finished) == 1  # request_finished (connection clean-up) ran once
    assert not connection.in_atomic_block
    assert connection.get_autocommit()
    with alarm_settings(0.3):
        assert Client().get("/swallow").status_code == 504  # and again: the worker is usable


def test_alarm_in_a_logging_handler_waits_for_the_handler_lock() -> None:
    LOG_HANDLER.emitted.clear()
    with alarm_settings():
        response, elapsed = get("/log")
    assert response.status_code == 504, response.content
    assert elapsed < 3  # not the view's 5 s
    assert LOG_HANDLER.emitted == ["past the deadline"]  # the record was written
    assert lock_is_free(LOG_HANDLER.lock)  # and the handler's lock released
    assert REACHED[-1] == "recorder: finally"


def test_an_unsafe_region_that_never_ends_is_interrupted_after_the_maximum_deferral(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with alarm_settings():
        response, elapsed = get("/hung-log")
    assert response.status_code == 504, response.content
    assert MAX_DEFER <= elapsed < MAX_DEFER + 2  # not the handler's 5 s
    assert "hung: emitted" not in REACHED
    assert lock_is_free(HUNG_HANDLER.lock)  # the exception landed inside its ``try``
    warnings = [r.getMessage() for r in caplog.records if r.name == "hardening.timeout"]
    assert len(warnings) == 1 and "interrupted logging code" in warnings[0], warnings


@pytest.mark.django_db(transaction=True)
def test_alarm_while_waiting_for_the_commit_reply_waits_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = BaseDatabaseWrapper._commit

    def slow_commit(self: BaseDatabaseWrapper) -> None:
        alarm_now()  # SIGALRM while the COMMIT's reply is awaited
        time.sleep(0.2)
        REACHED.append("commit: reply")
        original(self)

    monkeypatch.setattr(BaseDatabaseWrapper, "_commit", slow_commit)
    with alarm_settings():
        response, elapsed = get("/commit")
    assert response.status_code == 504, response.content
    assert elapsed < 3  # not the view's 5 s
    assert "commit: reply" in REACHED  # (the view's next line may see the 504 already)
    assert Group.objects.filter(name="committed").exists()  # the commit ran to its end
    assert not connection.in_atomic_block
    assert connection.get_autocommit()


def test_alarm_inside_threading_internals_waits_for_them() -> None:
    with alarm_settings():
        response, elapsed = get("/wait")
    assert response.status_code == 504, response.content
    # Not at the SIGALRM (0.1 s), but after the whole 0.3 s wait; not the view's 5 s.
    assert 0.3 <= elapsed < 3


def test_alarm_during_an_import_waits_for_it() -> None:
    try:
        with alarm_settings():
            response, elapsed = get("/import")
        assert response.status_code == 504, response.content
        assert elapsed < 3  # not the view's 5 s
        assert getattr(sys.modules.get(SLOW_IMPORT), "DONE", False) is True
    finally:
        sys.modules.pop(SLOW_IMPORT, None)
        vars(sys.modules["tests.timeout"]).pop("slow_import", None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_left_mid_command_is_closed_not_reused() -> None:
    from hardening.timeout.db import rollback_connections

    connection.ensure_connection()
    raw = connection.connection
    raw.pgconn.send_query(b"SELECT pg_sleep(0.2)")  # sent; its reply never read (interrupted)
    rollback_connections()
    assert connection.connection is None
    assert raw.closed
    with connection.cursor() as cursor:  # a new connection
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
