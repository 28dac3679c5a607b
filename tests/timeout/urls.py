"""Views for the timeout middleware tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

from django.contrib.auth.models import Group
from django.db import OperationalError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path

from hardening.request import state
from hardening.timeout import DeadlineExceeded, check_deadline, remaining, request_timeout
from hardening.timeout.deadline import Deadline, current_deadline


class FakeQueryCanceled(Exception):
    sqlstate = "57014"


def ok(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"remaining": remaining()})


def request_state(request: HttpRequest) -> HttpResponse:
    """The deadline as the request's state carries it, and whether it is the current one."""
    deadline = state(request).deadline
    return JsonResponse(
        {
            "budget": None if deadline is None else deadline.budget,
            "current": deadline is not None and deadline is current_deadline(),
        }
    )


async def async_request_state(request: HttpRequest) -> HttpResponse:
    return request_state(request)


def cooperative(request: HttpRequest) -> HttpResponse:
    end = time.monotonic() + 10
    while time.monotonic() < end:
        check_deadline()
        time.sleep(0.01)
    return JsonResponse({"finished": True})


def write_then_overrun(request: HttpRequest) -> HttpResponse:
    """A view that manages its own transaction, writes, then overruns its deadline."""
    transaction.set_autocommit(False)
    Group.objects.create(name=request.GET["name"])
    end = time.monotonic() + 10
    while time.monotonic() < end:
        check_deadline()
        time.sleep(0.01)
    transaction.commit()
    return JsonResponse({"finished": True})


async def async_sleep(request: HttpRequest) -> HttpResponse:
    await asyncio.sleep(10)  # no cooperation: only the middleware's timeout stops it
    return JsonResponse({"finished": True})


def sync_sleep(request: HttpRequest) -> HttpResponse:
    time.sleep(float(request.GET.get("s", "2")))  # a sync view that cannot be stopped
    return JsonResponse({"finished": True})


def query_canceled(request: HttpRequest) -> HttpResponse:
    try:
        raise FakeQueryCanceled("canceling statement due to statement timeout")
    except FakeQueryCanceled as exc:
        raise OperationalError(str(exc)) from exc


def broken(request: HttpRequest) -> HttpResponse:
    raise ValueError("not a timeout")


def streaming(request: HttpRequest) -> StreamingHttpResponse:
    def chunks() -> Iterator[bytes]:
        yield b"a"
        yield str(remaining()).encode()

    return StreamingHttpResponse(chunks())


@request_timeout(None)
def unbounded(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"remaining": remaining()})


@request_timeout(60)
def long_budget(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"remaining": remaining()})


@request_timeout(0.3)
def short_sleep(request: HttpRequest) -> HttpResponse:
    """A budget shorter than the route's, and code that only the SIGALRM timer stops."""
    time.sleep(5)
    return JsonResponse({"finished": True})


#: The deadlines ``overrun_briefly`` ran under.
DEADLINES: list[Deadline] = []


def overrun_briefly(request: HttpRequest) -> HttpResponse:
    """Returns just after its deadline (under ASGI: an orphan that ends at once)."""
    deadline = current_deadline()
    assert deadline is not None
    DEADLINES.append(deadline)
    time.sleep(deadline.remaining() + 0.05)
    return JsonResponse({"finished": True})


def sqlite_spin(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000000)"
            " SELECT count(*) FROM c"
        )
        cursor.fetchone()
    return JsonResponse({"finished": True})


ORPHAN_OUTCOMES: list[str] = []


def sleep_then_query(request: HttpRequest) -> HttpResponse:
    """Under ASGI the client has its 504 long before this returns; the query it then
    tries must be refused."""
    time.sleep(0.6)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DeadlineExceeded:
        ORPHAN_OUTCOMES.append("refused")
        raise
    ORPHAN_OUTCOMES.append("ran")
    return JsonResponse({"finished": True})


def pg_sleep(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [float(request.GET.get("s", "5"))])
    return JsonResponse({"finished": True})


def groups(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"groups": list(Group.objects.values_list("name", flat=True))})


urlpatterns = [
    path("groups", groups),
    path("ok", ok),
    path("cooperative", cooperative),
    path("write-then-overrun", write_then_overrun),
    path("async-sleep", async_sleep),
    path("sync-sleep", sync_sleep),
    path("query-canceled", query_canceled),
    path("broken", broken),
    path("streaming", streaming),
    path("unbounded", unbounded),
    path("long", long_budget),
    path("short-sleep", short_sleep),
    path("overrun-briefly", overrun_briefly),
    path("health/live", ok),
    path("state", request_state),
    path("async-state", async_request_state),
    path("health/state", request_state),
    path("sqlite-spin", sqlite_spin),
    path("pg-sleep", pg_sleep),
    path("sleep-then-query", sleep_then_query),
]
