"""JSON errors: one shape for every error django-hardening or the API returns.

``{"error": code, "detail": text, "request_id": id}`` -- never a stack trace, never a
secret.  Client errors are counted in ``hardening_bad_requests_total{code}``; Django logs
each 4xx/5xx on ``django.request`` with the request ID.  :func:`drf_exception_handler`
gives DRF's errors the same shape and the ``handler*`` views do it for Django's
400/403/404/500 pages.

A database that cannot be reached (connection refused, lost, too many clients) is not a
bug: ``handler500`` and the DRF handler answer it with 503 ``database_unavailable`` and
``Retry-After`` (counted in ``hardening_database_unavailable_total``), logged once per
outage at WARNING (``hardening.database``) rather than as an ERROR per request, and not
sent to Sentry (:mod:`hardening.observability.sentry`).
"""

from __future__ import annotations

import sys
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_default_handler

from hardening.context import current_request_id

__all__ = [
    "csrf_failure",
    "drf_exception_handler",
    "error_response",
    "handler400",
    "handler403",
    "handler404",
    "handler500",
    "reject",
]


def error_body(code: str, detail: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "detail": detail, "request_id": current_request_id()}
    body.update(extra)
    return body


def _count(status: int, code: str) -> None:
    # Client errors only; label values come from exception classes, never from the request.
    if 400 <= status < 500:
        from hardening.observability.metrics import BAD_REQUESTS

        BAD_REQUESTS.labels(code=code[:64]).inc()


def error_response(
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JsonResponse:
    """A JSON error response; ``extra`` keys are added to the body."""
    response = JsonResponse(error_body(code, detail, **extra), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    response["Cache-Control"] = "no-store"
    return response


def reject(
    request: HttpRequest, status: int, code: str, detail: str, **fields: Any
) -> JsonResponse:
    """Refuse bad input the house way: a JSON error with the request ID, counted in
    ``hardening_bad_requests_total{code}`` and audited as ``request.rejected`` (``fields``
    go into the audit line: never the offending value)."""
    from hardening.observability.audit import audit

    _count(status, code)
    audit("request.rejected", request=request, reason=code, **fields)
    return error_response(status, code, detail)


def _flatten(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _flatten(detail[0])
    if isinstance(detail, dict) and detail:
        return _flatten(next(iter(detail.values())))
    return str(detail)


#: Retry-After (seconds) of the 503 answered while the database cannot be reached.
DATABASE_RETRY_AFTER = 5

# SQLSTATE classes/codes meaning "no usable connection": 08 connection exception,
# 53300 too many connections, 57P01-57P03 admin/crash shutdown, cannot connect now.
_UNAVAILABLE_SQLSTATES = ("08", "53300", "57P01", "57P02", "57P03")


def database_unavailable(exc: BaseException | None) -> bool:
    """``exc`` says the database cannot be reached (not a query's own error).

    ``InterfaceError`` (connection closed) always; ``OperationalError`` when the driver
    error carries no SQLSTATE (a client-side connection failure) or a connection one.
    A statement timeout, deadlock or serialization failure is not an outage."""
    from django.db import InterfaceError, OperationalError

    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if cause is None or not hasattr(cause, "sqlstate"):  # not psycopg: unknown, leave it
        return cause is not None and type(cause).__module__.startswith("psycopg2")
    sqlstate = getattr(cause, "sqlstate", None)
    return sqlstate is None or str(sqlstate).startswith(_UNAVAILABLE_SQLSTATES)


def _database_unavailable() -> tuple[dict[str, Any], dict[str, str]]:
    """The 503's body and headers (counted once per answer; logged once per outage)."""
    from hardening.observability.metrics import DATABASE_UNAVAILABLE
    from hardening.outage import database_outage

    DATABASE_UNAVAILABLE.inc()
    database_outage.unavailable(current_request_id())
    detail = "The service is temporarily unavailable; try again shortly."
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER), "Cache-Control": "no-store"}
    return error_body("database_unavailable", detail), headers


def drf_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """``REST_FRAMEWORK["EXCEPTION_HANDLER"]``: DRF's handler, reshaped to the JSON error."""
    if database_unavailable(exc):
        body, headers = _database_unavailable()
        unavailable = Response(body, status=503, headers=headers)
        unavailable._has_been_logged = True  # type: ignore[attr-defined]  # once per outage
        return unavailable
    response = drf_default_handler(exc, context)
    if response is None:
        return _misconfigured(exc)
    if isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "invalid"
        detail = _flatten(exc.detail)
        body = error_body(code, detail)
        if isinstance(exc.detail, dict):
            body["fields"] = exc.detail
        response.data = body
        _count(response.status_code, code)
    return response


def _misconfigured(exc: Exception) -> Response | None:
    """A JWT key PyJWT refuses (HS* with a PEM key, hardening.E027): 503, not a 500."""
    from jwt.exceptions import InvalidKeyError

    if not isinstance(exc, InvalidKeyError):
        return None
    import logging

    logging.getLogger("hardening.jwt").error(
        "The JWT signing key cannot be used with its algorithm (hardening.E027)."
    )
    detail = "The server's token configuration is invalid; try again later."
    return Response(error_body("server_misconfigured", detail), status=503)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    _count(400, "bad_request")
    return error_response(400, "bad_request", "The request could not be understood.")


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    _count(403, "forbidden")
    return error_response(403, "forbidden", "You do not have permission to do this.")


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    _count(404, "not_found")
    return error_response(404, "not_found", "Not found.")


def handler500(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its ``except`` block (asgiref re-raises the exception in
    # the thread under ASGI), so sys.exc_info() is the error being handled.
    if database_unavailable(sys.exc_info()[1]):
        body, headers = _database_unavailable()
        response = JsonResponse(body, status=503)
        for name, value in headers.items():
            response[name] = value
        # Logged once per outage (hardening.outage), not as an ERROR with a traceback per
        # request: Django skips a response marked as logged.
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response
    return error_response(500, "server_error", "Internal server error.")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a 403 JSON error on API paths and for non-browser clients, a
    static HTML page (no inline script or style: CSP-clean) for browsers.  Django's own page
    has an inline ``<style>`` that a strict CSP blocks, and it is HTML even for APIs."""
    from django.template.loader import render_to_string

    from hardening.conf.core import api_path
    from hardening.observability.audit import audit

    _count(403, "csrf_failed")
    audit("request.rejected", request=request, reason="csrf")
    api = api_path(request.path)
    if api or "text/html" not in request.headers.get("Accept", ""):
        detail = "CSRF check failed: send the CSRF token (cookie and X-CSRFToken header)."
        return error_response(403, "csrf_failed", detail)
    context = {
        "request_id": current_request_id(),
        "back": _way_back(request),
        "stylesheet": _stylesheet(),
    }
    page = render_to_string("hardening/csrf_failure.html", context, request=request)
    response = HttpResponse(page, status=403, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def _way_back(request: HttpRequest) -> str:
    """The page of this site the form came from (``Referer``), else the site's root."""
    from django.core.exceptions import DisallowedHost
    from django.utils.http import url_has_allowed_host_and_scheme

    referer = request.headers.get("Referer", "")
    try:
        same_site = url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    except DisallowedHost:
        same_site = False
    return referer if referer and same_site else "/"


def _stylesheet() -> str:
    """The account pages' stylesheet, when ``hardening.urls`` (or the MFA URLs) are mounted."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("hardening:stylesheet")
    except NoReverseMatch:
        return ""
