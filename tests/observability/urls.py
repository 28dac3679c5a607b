"""The example project's URLs plus views that fail, for the observability tests."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from example_project.urls import handler400, handler403, handler404, handler500  # noqa: F401
from example_project.urls import urlpatterns as example_urlpatterns
from hardening.context import current_request_id
from hardening.request import state

logger = logging.getLogger("tests.observability")


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("kaboom with Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl")


def database_down(request: HttpRequest) -> HttpResponse:
    """A view whose database is unreachable (a client-side connection failure)."""
    import psycopg
    from django.db import OperationalError

    try:
        raise psycopg.OperationalError("connection refused")
    except psycopg.OperationalError as exc:
        raise OperationalError("connection refused") from exc


def echo(request: HttpRequest) -> JsonResponse:
    logger.warning("echo called password=hunter2")
    return JsonResponse({"request_id": current_request_id()})


def page(request: HttpRequest) -> HttpResponse:
    nonce = request.GET.get("nonce") and str(state(request).csp_nonce)
    body = f"<!doctype html><title>t</title><script nonce='{nonce}'></script>" if nonce else ""
    return HttpResponse(body or "<!doctype html><title>t</title>")


async def async_echo(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"request_id": current_request_id()})


urlpatterns = [
    *example_urlpatterns,
    path("test/boom", boom),
    path("test/echo", echo),
    path("test/database-down", database_down),
    path("test/page", page),
    path("test/async-echo", async_echo),
]
