"""Shared helpers: a controllable clock and a middleware driven by RequestFactory."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from hardening.ratelimit.middleware import RateLimitMiddleware


class FakeClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class User:
    is_authenticated = True

    def __init__(self, pk: str | None = None) -> None:
        self.pk = pk or uuid.uuid4().hex[:12]


def ok_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def make(clock: FakeClock | None = None) -> RateLimitMiddleware:
    return RateLimitMiddleware(ok_view, clock=clock)


def request(
    path: str = "/api/me",
    *,
    user: Any = None,
    ip: str = "192.0.2.10",
    method: str = "GET",
    **meta: str,
) -> HttpRequest:
    req = getattr(RequestFactory(), method.lower())(path, REMOTE_ADDR=ip, **meta)
    req.user = user or AnonymousUser()
    return req


def policies(*items: dict[str, Any]) -> list[dict[str, Any]]:
    return list(items)


def unique_ip() -> str:
    raw = uuid.uuid4().int
    return f"10.{raw % 250}.{(raw >> 8) % 250}.{(raw >> 16) % 250 + 1}"
