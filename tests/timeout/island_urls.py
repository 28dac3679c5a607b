"""Views and middleware for tests/timeout/test_island.py."""

from __future__ import annotations

import threading

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.utils.deprecation import MiddlewareMixin

SEEN: list[tuple[str, int]] = []


class RecordingMiddleware(MiddlewareMixin):
    """A plain Django (MiddlewareMixin) middleware: one thread hop per step under ASGI
    unless TimeoutMiddleware runs it in its sync chain."""

    def process_request(self, request: HttpRequest) -> None:
        SEEN.append(("request", threading.get_ident()))

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        SEEN.append(("response", threading.get_ident()))
        return response


def sync_view(request: HttpRequest) -> HttpResponse:
    SEEN.append(("view", threading.get_ident()))
    return JsonResponse({"ok": True})


async def async_view(request: HttpRequest) -> HttpResponse:
    SEEN.append(("view", threading.get_ident()))
    return JsonResponse({"ok": True})


urlpatterns = [path("sync", sync_view), path("async", async_view)]
