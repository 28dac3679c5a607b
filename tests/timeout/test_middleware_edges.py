"""TimeoutMiddleware (hardening.timeout.middleware) around a bare ``get_response``: a 500
given after the deadline passed becomes the 504 (WSGI and ASGI), a timeout error with no
deadline is still a 504, an exempt ASGI request is passed through, a deadline lifted by
the view is waited for, and a client that goes away cancels the view's task."""

from __future__ import annotations

import asyncio
import signal
import threading
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from hardening.request import state
from hardening.timeout import DeadlineExceeded, check_deadline, request_timeout
from hardening.timeout.deadline import Deadline, current_deadline
from hardening.timeout.middleware import TimeoutMiddleware, _wait, timeout_response
from tests.helpers.clock import FakeClock
from tests.timeout.helpers import audited, timeouts

pytestmark = pytest.mark.timeout(60)

#: Cooperative: no SIGALRM timer and no helper thread, only the deadline itself.
COOPERATIVE = override_settings(
    HARDENING_REQUEST_TIMEOUT=0.5, HARDENING_REQUEST_TIMEOUT_MODE="cooperative", MIDDLEWARE=[]
)


def overran_then_500(clock: FakeClock) -> HttpResponse:
    """A view (or inner middleware) that ran out of time, caught the error itself and
    answered a 500 of its own."""
    clock.advance(1)
    try:
        check_deadline()
    except DeadlineExceeded:
        return HttpResponse("oops", status=500)
    raise AssertionError("the deadline did not pass")


@COOPERATIVE
def test_a_500_after_the_deadline_becomes_the_504(clock: FakeClock) -> None:
    before = timeouts("deadline")
    middleware = TimeoutMiddleware(lambda request: overran_then_500(clock))
    response = middleware(RequestFactory().get("/x"))
    assert response.status_code == 504
    assert timeouts("deadline") == before + 1


@COOPERATIVE
def test_a_500_within_the_budget_stays_a_500(clock: FakeClock) -> None:
    middleware = TimeoutMiddleware(lambda request: HttpResponse("oops", status=500))
    assert middleware(RequestFactory().get("/x")).status_code == 500


@COOPERATIVE
async def test_asgi_a_500_after_the_deadline_becomes_the_504(clock: FakeClock) -> None:
    async def view(request: Any) -> HttpResponse:
        return overran_then_500(clock)

    before = timeouts("deadline")
    response = await TimeoutMiddleware(view)(RequestFactory().get("/x"))
    assert response.status_code == 504
    assert timeouts("deadline") == before + 1


@override_settings(HARDENING_REQUEST_TIMEOUT=0, MIDDLEWARE=[])
async def test_asgi_a_request_without_a_budget_is_passed_through() -> None:
    seen: list[Any] = []

    async def view(request: Any) -> HttpResponse:
        seen.append(current_deadline())
        return HttpResponse("fine")

    request = RequestFactory().get("/x")
    response = await TimeoutMiddleware(view)(request)
    assert response.status_code == 200 and response.content == b"fine"
    assert seen == [None] and state(request).deadline is None


@override_settings(
    HARDENING_REQUEST_TIMEOUT=0.05, HARDENING_REQUEST_TIMEOUT_MODE="cooperative", MIDDLEWARE=[]
)
async def test_asgi_a_deadline_lifted_by_the_view_is_waited_for() -> None:
    """``@request_timeout(None)`` lifts the deadline when Django calls the middleware's
    ``process_view``: the request then runs as long as it takes, past the budget it
    started with."""

    @request_timeout(None)
    async def unbounded(request: Any) -> HttpResponse:
        await asyncio.sleep(0.2)  # longer than the 0.05 s the request started with
        return HttpResponse("done")

    async def handler(request: Any) -> HttpResponse:  # Django's chain: process_view, view
        await middleware.process_view(request, unbounded, (), {})
        return await unbounded(request)

    middleware = TimeoutMiddleware(handler)
    response = await middleware(RequestFactory().get("/x"))
    assert response.status_code == 200 and response.content == b"done"


@override_settings(HARDENING_REQUEST_TIMEOUT=0.5, MIDDLEWARE=[])
async def test_asgi_a_client_that_goes_away_cancels_the_view() -> None:
    """The view's task is cancelled with the request; its deadline stays with the watchdog
    until it passes (sync work of the request may still run in a thread)."""
    started, outcome = asyncio.Event(), []

    async def view(request: Any) -> HttpResponse:
        started.set()
        try:
            await asyncio.Event().wait()  # never set: only a cancel ends it
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise
        raise AssertionError("unreachable")

    request = asyncio.ensure_future(TimeoutMiddleware(view)(RequestFactory().get("/x")))
    await asyncio.wait_for(started.wait(), 5)
    request.cancel()  # what Django does when the client disconnects
    with pytest.raises(asyncio.CancelledError):
        await request
    assert outcome == ["cancelled"]


def test_a_timeout_error_without_a_deadline_is_still_a_504() -> None:
    """An exempt route's view whose query was cancelled (a statement_timeout of the
    database's own): 504, audited without a budget."""
    middleware = TimeoutMiddleware(lambda request: HttpResponse())
    request = RequestFactory().get("/x")
    before = timeouts("deadline")
    with audited() as events:
        response = middleware.process_exception(request, DeadlineExceeded("deadline"))
    assert response is not None and response.status_code == 504
    assert timeouts("deadline") == before + 1
    [event] = [e for e in events if e["event"] == "timeout.exceeded"]
    assert event["kind"] == "deadline" and "budget_s" not in event
    assert middleware.process_exception(request, ValueError("not a timeout")) is None


def test_a_timeout_response_names_the_budget_and_the_time_spent(clock: FakeClock) -> None:
    deadline = Deadline(budget=2.0)
    clock.advance(2.5)
    with audited() as events:
        response = timeout_response(None, deadline, "db")
    assert response.status_code == 504
    [event] = [e for e in events if e["event"] == "timeout.exceeded"]
    assert (event["kind"], event["budget_s"], event["elapsed_ms"]) == ("db", 2.0, 2500)


# -- the WSGI helper-thread wait -------------------------------------------------------------


def test_the_wait_follows_a_lifted_deadline_until_the_view_is_done() -> None:
    deadline = Deadline(budget=0.01)
    deadline.disable()
    done = threading.Event()
    timer = threading.Timer(0.1, done.set)
    timer.start()
    try:
        assert _wait(deadline, done) is True  # past the 0.01 s budget: waited anyway
    finally:
        timer.join()


def test_the_wait_follows_a_budget_extended_while_waiting() -> None:
    deadline = Deadline(budget=0.05)
    done = threading.Event()

    def extend_then_finish() -> None:
        deadline.set_budget(5.0)  # @request_timeout(5) applied by process_view
        threading.Timer(0.15, done.set).start()

    extend = threading.Timer(0.01, extend_then_finish)
    extend.start()
    try:
        assert _wait(deadline, done) is True  # not False at the first budget's end
    finally:
        extend.join()
    assert not deadline.expired()


def test_the_wait_gives_up_at_the_deadline() -> None:
    deadline = Deadline(budget=0.05)
    assert _wait(deadline, threading.Event()) is False


# -- budgets the settings accept but no timer can hold ----------------------------------------


@pytest.mark.parametrize("budget", [1e10, 1e300])
def test_a_budget_of_centuries_is_served_not_a_500(free_sigalrm: None, budget: float) -> None:
    """``parse_seconds`` accepts any finite number; the SIGALRM timer (``setitimer``) and
    timed waits overflow past ``threading.TIMEOUT_MAX`` (about 292 years)."""
    from django.test import Client

    from hardening.timeout.watchdog import watchdog
    from tests.timeout.helpers import timeout_settings

    with timeout_settings(budget):
        response = Client().get("/ok")
    assert response.status_code == 200
    assert response.json()["remaining"] > 9e9
    assert watchdog.wait_idle(timeout=5)  # the request's deadline was unregistered
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL  # handed back
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_view_budget_of_centuries_is_served_not_a_500(free_sigalrm: None) -> None:
    from django.test import Client

    from tests.timeout.helpers import timeout_settings

    with timeout_settings(0.3), override_settings(ROOT_URLCONF="tests.timeout.far_urls"):
        response = Client().get("/far")
    assert response.status_code == 200, response.content
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
