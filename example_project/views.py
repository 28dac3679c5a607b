"""Views of the example project: a small DRF API protected by django-hardening."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from example_project.models import ExchangeCredential
from hardening.errors import error_response, reject
from hardening.permissions import HasScope, is_mfa_verified
from hardening.request import state
from hardening.timeout import check_deadline

# The name each authentication class other than hardening's reports in GET /api/me.
AUTH_KINDS: dict[str, str] = {
    "SessionAuthentication": "session",
}


def auth_kind(request: Request) -> str:
    """``jwt`` / ``clerk`` / ``oidc`` / ``clerk_machine`` for a bearer token, ``api_key`` for
    an API key (``request.hardening``), else the name of the DRF authentication class that
    authenticated the request."""
    kind = state(request).auth_kind
    if kind is not None:
        return kind
    name = type(request.successful_authenticator).__name__
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


# -- a user's third-party credentials, encrypted (docs/encryption.md) ---------------------

#: Longest value accepted for each field of an exchange credential.
EXCHANGE_FIELDS = {"exchange": 50, "api_key": 200, "api_secret": 500, "passphrase": 200}


#: People (sessions, tokens) pass; an API key or a Clerk machine token needs the scope.
EXCHANGE_SCOPE = HasScope("exchange:write", machines_only=True)


def describe_credential(row: ExchangeCredential) -> dict[str, Any]:
    """What the API shows of a stored credential: never the secret, never the whole key."""
    return {
        "id": row.pk,
        "exchange": row.exchange,
        "api_key_hint": f"…{row.hint}",
        "has_passphrase": bool(row.extra.get("passphrase")),
        "created_at": row.created_at.isoformat(),
    }


class ExchangeCredentialsView(APIView):
    """``GET /api/exchange-credentials``: the caller's credentials (masked);
    ``POST`` ``{"exchange", "api_key", "api_secret", "passphrase"?}``: store one, encrypted."""

    permission_classes = [IsAuthenticated, EXCHANGE_SCOPE]

    def get(self, request: Request) -> Response:
        rows = ExchangeCredential.objects.filter(user=request.user).order_by("pk")
        return Response({"credentials": [describe_credential(row) for row in rows]})

    def post(self, request: Request) -> HttpResponse | Response:
        data = request.data if isinstance(request.data, dict) else {}
        values: dict[str, str] = {}
        for name, longest in EXCHANGE_FIELDS.items():
            value = data.get(name, "" if name == "passphrase" else None)
            # hardening's JSON parser already refused NUL and lone surrogates in the body.
            if not isinstance(value, str) or len(value) > longest:
                return reject(request._request, 400, "invalid_field", f"{name}: a string.")
            if not value.strip() and name != "passphrase":
                return reject(request._request, 400, "invalid_field", f"{name}: required.")
            values[name] = value.strip()
        row = ExchangeCredential.objects.create(
            user=request.user,
            exchange=values["exchange"],
            api_key=values["api_key"],
            api_secret=values["api_secret"],
            extra={"passphrase": values["passphrase"]} if values["passphrase"] else {},
            hint=values["api_key"][-4:],
        )
        return Response(describe_credential(row), status=201)


@api_view(["DELETE"])
@permission_classes([IsAuthenticated, EXCHANGE_SCOPE])
def exchange_credential(request: Request, pk: int) -> HttpResponse:
    """``DELETE /api/exchange-credentials/<id>``: forget one of the caller's credentials."""
    deleted, _ = ExchangeCredential.objects.filter(user=request.user, pk=pk).delete()
    if not deleted:
        return error_response(404, "not_found", "No such credential.")
    return HttpResponse(status=204)


# -- timeout demos (docs/timeouts.md) ---------------------------------------------------

SLOW_MAX_MS = 60_000


def demo_mode() -> str:
    """``DEMO_ENDPOINTS``: ``off`` (default in production), ``staff`` or ``open`` (default
    elsewhere).  Production never serves them to anyone but staff: ``open`` means ``staff``."""
    production = settings.HARDENING_ENVIRONMENT == "production"
    mode = str(getattr(settings, "DEMO_ENDPOINTS", "") or "").strip().lower()
    if mode not in ("off", "staff", "open"):
        mode = "off" if production else "open"
    if mode == "open" and production:
        return "staff"
    return mode


def _demo_refusal(request: HttpRequest) -> HttpResponse | None:
    """A 404 when the demos are off, 401/403 when they are staff-only and the caller is not."""
    mode = demo_mode()
    if mode == "off":
        return error_response(404, "not_found", "The demo endpoints are turned off.")
    if mode == "open":
        return None
    user = request.user  # the session user, or the bearer user on API paths
    if not user.is_authenticated:
        return error_response(401, "not_authenticated", "The demo endpoints are for staff.")
    if not user.is_staff:
        return error_response(403, "staff_only", "The demo endpoints are for staff.")
    return None


def demo_endpoint(
    view: Callable[[HttpRequest], Awaitable[HttpResponse]],
) -> Callable[[HttpRequest], Awaitable[HttpResponse]]:
    """Gate an async demo: each request can hold a worker for up to 60 s (issue 12)."""

    @functools.wraps(view)
    async def gated(request: HttpRequest) -> HttpResponse:
        refusal = await sync_to_async(_demo_refusal)(request)  # may load the session user
        return refusal if refusal is not None else await view(request)

    return gated


def sync_demo_endpoint(view: Callable[[HttpRequest], HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def gated(request: HttpRequest) -> HttpResponse:
        refusal = _demo_refusal(request)
        return refusal if refusal is not None else view(request)

    return gated


def _demo_ms(request: HttpRequest) -> int | HttpResponse:
    """The ``ms`` query parameter (0..SLOW_MAX_MS), or a 400 JSON error."""
    raw = request.GET.get("ms", "0")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6 or int(raw) > SLOW_MAX_MS:
        return reject(request, 400, "invalid_ms", f"ms must be an integer from 0 to {SLOW_MAX_MS}.")
    return int(raw)


@require_GET
@demo_endpoint
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
@sync_demo_endpoint
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
    "api_keys": "/api/keys",
    "exchange_credentials": "/api/exchange-credentials",
    "token": "/api/auth/token",
    "token_refresh": "/api/auth/token/refresh",
    "logout": "/api/auth/logout",
    "mfa_login": "/api/auth/mfa",
    "mfa_api": "/api/mfa/totp",
    "passkeys": "/api/mfa/webauthn",
    "passkey_login": "/api/auth/passkey",
    "mfa_page": "/account/mfa/",
    "login": "/account/login/",
    "slow": "/api/slow?ms=N",
    "slow_db": "/api/slow-db?ms=N",
    "health_live": "/health/live",
    "health_ready": "/health/ready",
    "metrics": "/metrics",
    "admin": "/admin/",
    "websocket_echo": "/ws/echo",  # under uvicorn, with the websocket extra
}


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """``GET /``: a small JSON index of the endpoints (the admin's "View site" lands here)."""
    return JsonResponse({"name": "django-hardening example", "endpoints": ENDPOINTS})
