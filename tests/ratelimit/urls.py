from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from hardening.ratelimit.decorators import rate_limit


@rate_limit("2/m", name="export", key="user_or_ip")
def export(request: HttpRequest) -> HttpResponse:
    return HttpResponse("export")


@rate_limit(exempt=True)
def webhook(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hook")


def plain(request: HttpRequest) -> HttpResponse:
    return HttpResponse("plain")


urlpatterns = [
    path("export", export),
    path("webhook", webhook),
    path("plain", plain),
]
