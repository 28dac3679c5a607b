from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group
from django.db import connections
from django.test import AsyncClient, Client

from hardening.timeout import runner
from hardening.timeout.runner import ORPHANS
from tests.timeout import urls
from tests.timeout.helpers import audited, timeout_settings, timeouts

pytestmark = pytest.mark.timeout(60)


def body(response: object) -> dict[str, object]:
    return json.loads(response.content)  # type: ignore[attr-defined,no-any-return]


@timeout_settings(0.3)
def test_normal_request_is_untouched_and_sees_its_budget() -> None:
    response = Client().get("/ok")
    assert response.status_code == 200
    left = body(response)["remaining"]
    assert isinstance(left, float)
    assert 0 < left <= 0.3


@timeout_settings(0.3)
def test_cooperative_check_gives_504_json_audit_and_metric() -> None:
    before = timeouts("deadline")
    started = time.monotonic()
    with audited() as events:
        response = Client().get("/cooperative")
    elapsed = time.monotonic() - started
    assert response.status_code == 504
    assert elapsed < 1.5
    data = body(response)
    assert data["error"] == "timeout"
    assert set(data) >= {"error", "detail", "request_id"}
    assert response["Cache-Control"] == "no-store"
    assert timeouts("deadline") == before + 1
    assert [e["event"] for e in events] == ["timeout.exceeded"]
    assert events[0]["kind"] == "deadline"
    assert events[0]["budget_s"] == 0.3


@pytest.mark.django_db(transaction=True)
@timeout_settings(0.3)
def test_a_timed_out_request_leaves_no_uncommitted_write_behind() -> None:
    from django.contrib.auth.models import Group
    from django.db import transaction

    try:
        response = Client().get("/write-then-overrun", {"name": "never-committed"})
        assert response.status_code == 504
        # Same connection, same thread: without the rollback the open transaction would
        # still show the row (and a later commit on this connection would keep it).
        assert not Group.objects.filter(name="never-committed").exists()
    finally:  # Django's request end would drop the connection; the test client keeps it
        if not transaction.get_autocommit():
            transaction.rollback()
            transaction.set_autocommit(True)
    assert not Group.objects.filter(name="never-committed").exists()


@timeout_settings(30)
def test_query_canceled_becomes_504_not_500() -> None:
    before = timeouts("db")
    response = Client(raise_request_exception=False).get("/query-canceled")
    assert response.status_code == 504
    assert body(response)["error"] == "timeout"
    assert timeouts("db") == before + 1


@timeout_settings(30)
def test_other_errors_stay_500() -> None:
    response = Client(raise_request_exception=False).get("/broken")
    assert response.status_code == 500


@timeout_settings(0.3)
def test_streaming_response_is_untouched_and_streams_without_deadline() -> None:
    response = Client().get("/streaming")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"aNone"


@timeout_settings(0.3, HARDENING_REQUEST_TIMEOUT_ROUTES={"/health/": None})
def test_exempt_path_has_no_deadline() -> None:
    assert body(Client().get("/health/live"))["remaining"] is None
    assert body(Client().get("/ok"))["remaining"] is not None


@timeout_settings(0.3)
def test_the_request_state_carries_the_deadline() -> None:
    assert body(Client().get("/state")) == {"budget": 0.3, "current": True}
    assert body(Client().get("/health/state")) == {"budget": None, "current": False}


@timeout_settings(0.3)
async def test_asgi_request_state_carries_the_deadline() -> None:
    assert body(await AsyncClient().get("/async-state")) == {"budget": 0.3, "current": True}
    assert body(await AsyncClient().get("/state")) == {"budget": 0.3, "current": True}


@timeout_settings(0.3, HARDENING_REQUEST_TIMEOUT_ROUTES={"/ok": 5, "/cooperative": None})
def test_route_overrides() -> None:
    assert 0.3 < body(Client().get("/ok"))["remaining"] <= 5  # type: ignore[operator]


@timeout_settings(0.3)
def test_view_decorator_overrides() -> None:
    assert body(Client().get("/unbounded"))["remaining"] is None
    assert 0.3 < body(Client().get("/long"))["remaining"] <= 60  # type: ignore[operator]


@timeout_settings(0)
def test_zero_disables() -> None:
    assert body(Client().get("/ok"))["remaining"] is None


@timeout_settings(0.3)
def test_sigalrm_is_left_alone_when_something_else_uses_it() -> None:
    # pytest-timeout holds SIGALRM during this test: the middleware must not take it.
    handler = signal.getsignal(signal.SIGALRM)
    assert Client().get("/cooperative").status_code == 504
    assert Client().get("/ok").status_code == 200
    assert signal.getsignal(signal.SIGALRM) is handler


@timeout_settings(0.3)
def test_sigalrm_stops_a_blocking_sync_view_by_default(free_sigalrm: None) -> None:
    before = timeouts("signal")
    started = time.monotonic()
    response = Client().get("/sync-sleep?s=5")
    assert response.status_code == 504
    assert time.monotonic() - started < 1.5
    assert timeouts("signal") == before + 1
    assert Client().get("/ok").status_code == 200  # the timer was disarmed
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@timeout_settings(30)
def test_sigalrm_keeps_a_shorter_view_budget(free_sigalrm: None) -> None:
    """``@request_timeout(0.3)`` under a 30 s route: the timer fires at 0.3 s, not 30."""
    started = time.monotonic()
    response = Client().get("/short-sleep")
    assert response.status_code == 504
    assert time.monotonic() - started < 1.5
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@timeout_settings(0.3, HARDENING_REQUEST_TIMEOUT_MODE="thread")
def test_sigalrm_can_be_turned_off(free_sigalrm: None) -> None:
    started = time.monotonic()
    assert Client().get("/sync-sleep?s=0.6").status_code == 200
    assert time.monotonic() - started >= 0.6


@timeout_settings(0.3, HARDENING_REQUEST_TIMEOUT_MODE="cooperative")
def test_cooperative_mode_arms_no_timer_and_starts_no_thread(free_sigalrm: None) -> None:
    response, elapsed = in_thread("/sync-sleep?s=0.6")
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert elapsed >= 0.6
    started = time.monotonic()
    assert Client().get("/sync-sleep?s=0.6").status_code == 200
    assert time.monotonic() - started >= 0.6
    assert Client().get("/cooperative").status_code == 504  # check_deadline() still works


def in_thread(path: str) -> tuple[object, float]:
    """Serve ``path`` from a non-main thread, as gunicorn gthread does."""
    result: list[object] = []
    started = time.monotonic()
    worker = threading.Thread(target=lambda: result.append(Client().get(path)))
    worker.start()
    worker.join(10)
    assert result, "the request did not finish"
    return result[0], time.monotonic() - started


def orphans() -> float:
    return float(ORPHANS._value.get())


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


@timeout_settings(0.3)
def test_thread_mode_answers_at_the_deadline_and_counts_the_orphan() -> None:
    before = timeouts("thread")
    response, elapsed = in_thread("/sync-sleep?s=1.2")
    assert response.status_code == 504  # type: ignore[attr-defined]
    assert elapsed < 0.8
    assert body(response)["error"] == "timeout"
    assert timeouts("thread") == before + 1
    assert orphans() >= 1
    assert wait_for(lambda: orphans() == 0)  # the orphan ends when its view returns
    response, _ = in_thread("/ok")
    assert response.status_code == 200  # type: ignore[attr-defined]


@timeout_settings(0.3, HARDENING_REQUEST_TIMEOUT_MODE="signal")
def test_thread_mode_can_be_turned_off() -> None:
    response, elapsed = in_thread("/sync-sleep?s=0.6")
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert elapsed >= 0.6


@pytest.mark.django_db
@timeout_settings(2)
def test_thread_mode_lends_the_threads_connection() -> None:
    # The test's own transaction is visible: the view ran on this thread's connection
    # objects (ATOMIC_REQUESTS, CONN_MAX_AGE and close_old_connections see them too).
    Group.objects.create(name="lent")
    result: list[object] = []

    def serve() -> None:
        connections["default"] = outer
        try:
            result.append(Client().get("/groups"))
        finally:
            del connections["default"]

    outer = connections["default"]
    outer.inc_thread_sharing()
    try:
        worker = threading.Thread(target=serve)
        worker.start()
        worker.join(10)
    finally:
        outer.dec_thread_sharing()
    assert body(result[0]) == {"groups": ["lent"]}


# -- ASGI ------------------------------------------------------------------------------


@timeout_settings(0.3)
async def test_asgi_async_view_is_cancelled_at_the_deadline() -> None:
    before = timeouts("asgi")
    started = time.monotonic()
    response = await AsyncClient().get("/async-sleep")
    assert response.status_code == 504
    assert time.monotonic() - started < 1.5
    assert body(response)["error"] == "timeout"
    assert timeouts("asgi") == before + 1


@timeout_settings(0.3)
async def test_asgi_sync_view_gets_504_at_the_deadline() -> None:
    response = await AsyncClient().get("/sync-sleep?s=1")
    assert response.status_code == 504
    assert orphans() >= 1  # its thread still runs, and is counted until it returns
    end = time.monotonic() + 5
    while orphans() and time.monotonic() < end:
        await asyncio.sleep(0.02)
    assert orphans() == 0
    assert (await AsyncClient().get("/ok")).status_code == 200


@timeout_settings(0.3)
async def test_asgi_normal_and_cooperative() -> None:
    ok = await AsyncClient().get("/ok")
    assert ok.status_code == 200
    assert 0 < body(ok)["remaining"] <= 0.3  # type: ignore[operator]
    assert (await AsyncClient().get("/cooperative")).status_code == 504
    assert (await AsyncClient().get("/unbounded")).status_code == 200
    assert (
        await AsyncClient(raise_request_exception=False).get("/query-canceled")
    ).status_code == 504


# 2 s, not 0.3: /long must reach its view (and its 60 s budget) before the project's
# deadline passes, and on a loaded 2-core machine the thread hop alone took longer than 0.3 s.
@timeout_settings(2)
async def test_asgi_streaming_and_decorated_views() -> None:
    response = await AsyncClient().get("/streaming")
    assert response.status_code == 200
    content = response.streaming_content
    chunks = [chunk async for chunk in content] if hasattr(content, "__aiter__") else list(content)
    assert b"".join(chunks) == b"aNone"
    unbounded = await AsyncClient().get("/unbounded")
    assert body(unbounded)["remaining"] is None
    long = await AsyncClient().get("/long")
    assert 2 < body(long)["remaining"] <= 60  # type: ignore[operator]


async def pooled_threads() -> int:
    """Idle pooled request threads, once the last request's thread is back (bounded)."""
    end = time.monotonic() + 5
    while not runner._idle and time.monotonic() < end:
        await asyncio.sleep(0.01)
    return len(runner._idle)


@timeout_settings(0.3)
async def test_asgi_orphan_hands_its_threads_connections_back() -> None:
    """A timed-out sync view's pooled thread serves the next requests with the same
    connection objects once the view has returned: its old deadline must not hold them, or
    the watchdog (acting on it 50 ms after the deadline) cancels another request's query."""
    assert (await AsyncClient().get("/ok")).status_code == 200
    assert await pooled_threads() == 1  # the thread knows its connections now
    urls.DEADLINES.clear()
    response = await AsyncClient().get("/overrun-briefly")
    assert response.status_code == 504
    assert await pooled_threads() == 1  # the view returned; the same thread is reused
    (deadline,) = urls.DEADLINES
    assert deadline.connections == []
