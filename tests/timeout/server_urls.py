"""A user's own URLconf for the real-server timeout tests: plain sync views that do not
cooperate with the deadline (no ``check_deadline()``), next to the example's routes.

Served by ``tests.timeout.server_settings``; the upstream URL comes from the
``TIMEOUT_TEST_UPSTREAM`` environment variable (a loopback server that accepts and never
answers, run by the test).
"""

from __future__ import annotations

import os
import time
import urllib.request
from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import include, path

from hardening.timeout import remaining

UPSTREAM_TIMEOUT = 6.0
#: Seconds the exempt view and the streaming body take: past the 1 s deadline + slack.
OUTLIVE = 1.6
CHUNKS = 4

handler400 = "hardening.errors.handler400"
handler403 = "hardening.errors.handler403"
handler404 = "hardening.errors.handler404"
handler500 = "hardening.errors.handler500"


def _upstream() -> str:
    return os.environ.get("TIMEOUT_TEST_UPSTREAM", "http://127.0.0.1:9/")


def sleep(request: HttpRequest) -> HttpResponse:
    time.sleep(5)
    return JsonResponse({"finished": True})


def upstream_urllib(request: HttpRequest) -> HttpResponse:
    with urllib.request.urlopen(_upstream(), timeout=UPSTREAM_TIMEOUT) as resp:  # noqa: S310 - loopback
        return JsonResponse({"status": resp.status})


def upstream_requests(request: HttpRequest) -> HttpResponse:
    import requests

    return JsonResponse({"status": requests.get(_upstream(), timeout=UPSTREAM_TIMEOUT).status_code})


def upstream_httpx(request: HttpRequest) -> HttpResponse:
    import httpx

    return JsonResponse({"status": httpx.get(_upstream(), timeout=UPSTREAM_TIMEOUT).status_code})


def swallow(request: HttpRequest) -> HttpResponse:
    """A catch-all around slow work: it must not swallow the deadline."""
    try:
        time.sleep(3)
    except Exception:  # noqa: BLE001 - what user code does
        return JsonResponse({"caught": True})
    return JsonResponse({"finished": True})


def cpu(request: HttpRequest) -> HttpResponse:
    end = time.monotonic() + 5
    n = 0
    while time.monotonic() < end:
        n += 1
    return JsonResponse({"loops": n})


def exempt_sleep(request: HttpRequest) -> HttpResponse:
    """Under a prefix that ``HARDENING_REQUEST_TIMEOUT_ROUTES`` maps to None: no deadline."""
    time.sleep(OUTLIVE)
    return JsonResponse({"remaining": remaining()})


def stream(request: HttpRequest) -> StreamingHttpResponse:
    """Answered at once; its body takes longer than the deadline."""

    def chunks() -> Iterator[bytes]:
        for n in range(CHUNKS):
            time.sleep(OUTLIVE / CHUNKS)
            yield f"chunk {n}\n".encode()

    return StreamingHttpResponse(chunks(), content_type="text/plain")


def pid(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"pid": os.getpid()})


urlpatterns = [
    path("t/sleep", sleep),
    path("t/urllib", upstream_urllib),
    path("t/requests", upstream_requests),
    path("t/httpx", upstream_httpx),
    path("t/cpu", cpu),
    path("t/swallow", swallow),
    path("t/pid", pid),
    path("t/exempt/sleep", exempt_sleep),
    path("t/stream", stream),
    path("", include("example_project.urls")),
]
