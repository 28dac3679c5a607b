"""Views of the example project: a small DRF API protected by django-hardening."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from hardening.errors import error_response
from hardening.mfa.policy import is_mfa_verified
from hardening.observability.audit import audit
from hardening.observability.metrics import BAD_REQUESTS
from hardening.timeout import check_deadline

# The name each authentication class reports in GET /api/me.  Later capabilities (own
# JWTs, Clerk, OIDC) register theirs here.
AUTH_KINDS: dict[str, str] = {
    "SessionAuthentication": "session",
}


def auth_kind(request: Request) -> str:
    authenticator: Any = request.successful_authenticator
    kind = getattr(authenticator, "auth_kind", None)  # bearer tokens: jwt / clerk / oidc
    if isinstance(kind, str):
        return kind
    name = type(authenticator).__name__
    return AUTH_KINDS.get(name, name.lower())


@api_view(["GET"])
def me(request: Request) -> Response:
    """Who is calling: ``{"sub", "auth", "mfa"}``."""
    user = request.user
    return Response(
        {
            "sub": str(getattr(user, "pk", "")),
            "auth": auth_kind(request),
            "mfa": is_mfa_verified(request),
        }
    )


# -- timeout demos (docs/timeouts.md) ---------------------------------------------------

SLOW_MAX_MS = 60_000


def _demo_ms(request: HttpRequest) -> int | HttpResponse:
    """The ``ms`` query parameter (0..SLOW_MAX_MS), or a 400 JSON error."""
    raw = request.GET.get("ms", "0")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6 or int(raw) > SLOW_MAX_MS:
        BAD_REQUESTS.labels(code="invalid_ms").inc()
        audit("request.rejected", request=request, reason="invalid_ms")
        return error_response(400, "invalid_ms", f"ms must be an integer from 0 to {SLOW_MAX_MS}.")
    return int(raw)


@require_GET
async def slow(request: HttpRequest) -> HttpResponse:
    """``GET /api/slow?ms=N``: sleep N ms.  Under ASGI the middleware cancels it at the
    deadline; under WSGI its ``check_deadline()`` calls stop it (cooperative)."""
    ms = _demo_ms(request)
    if isinstance(ms, HttpResponse):
        return ms
    end = time.monotonic() + ms / 1000
    while (left := end - time.monotonic()) > 0:
        check_deadline()
        await asyncio.sleep(min(left, 0.05))
    return JsonResponse({"slept_ms": ms})


@require_GET
def slow_db(request: HttpRequest) -> HttpResponse:
    """``GET /api/slow-db?ms=N``: ``SELECT pg_sleep(N / 1000)``, bounded by the
    statement timeout the middleware sets (PostgreSQL only: 501 elsewhere)."""
    ms = _demo_ms(request)
    if isinstance(ms, HttpResponse):
        return ms
    if connection.vendor != "postgresql":
        return error_response(501, "not_supported", "This demo needs PostgreSQL (pg_sleep).")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [ms / 1000])
    return JsonResponse({"slept_ms": ms})


ENDPOINTS = {
    "me": "/api/me",
    "token": "/api/auth/token",
    "token_refresh": "/api/auth/token/refresh",
    "logout": "/api/auth/logout",
    "mfa_login": "/api/auth/mfa",
    "mfa_api": "/api/mfa/totp",
    "mfa_page": "/account/mfa/",
    "login": "/account/login/",
    "slow": "/api/slow?ms=N",
    "slow_db": "/api/slow-db?ms=N",
    "health_live": "/health/live",
    "health_ready": "/health/ready",
    "metrics": "/metrics",
    "admin": "/admin/",
}


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """``GET /``: a small JSON index of the endpoints (the admin's "View site" lands here)."""
    return JsonResponse({"name": "django-hardening example", "endpoints": ENDPOINTS})
