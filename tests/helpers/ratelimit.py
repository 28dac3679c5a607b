"""Rate-limit helpers: the middleware driven by RequestFactory (time: the fake clock of
``tests/helpers/clock.py``), requests, users and addresses, and Redis clean-up."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from hardening.ratelimit.middleware import RateLimitMiddleware


class User:
    is_authenticated = True

    def __init__(self, pk: str | None = None) -> None:
        self.pk = pk or uuid.uuid4().hex[:12]


def ok_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def make() -> RateLimitMiddleware:
    """The middleware (under the ``clock`` fixture, Redis counts on the fake clock too)."""
    return RateLimitMiddleware(ok_view)


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


def delete_prefix(url: str, prefix: str) -> None:
    """Delete the keys under ``prefix`` (an end-to-end server's own KEY_PREFIX)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
