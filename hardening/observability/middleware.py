"""Request IDs: accept a safe incoming ``X-Request-ID`` or make one, and echo it.

Put :class:`RequestMiddleware` first in ``MIDDLEWARE`` (right after django-prometheus's
``PrometheusBeforeMiddleware``) so every later middleware, every log line, every JSON
error and every Sentry event of the request carries the same ID.

An incoming ID is trusted only when it matches ``^[A-Za-z0-9._-]{8,128}$``: anything
else (CR/LF, spaces, quotes, non-ASCII, too short or too long) is replaced by a new
random ID, so a client cannot inject log lines or headers through it.
"""

from __future__ import annotations

import re
import uuid
from contextvars import Token
from typing import Any, Final

from django.http import HttpRequest
from django.http.response import HttpResponseBase

from hardening.context import request_id_var
from hardening.observability.correlation import tag_span
from hardening.observability.logging import note_served, request_var, user_id_var
from hardening.request import HardeningMiddleware, attach

HEADER: Final = "X-Request-ID"
_META_KEY: Final = "HTTP_X_REQUEST_ID"
_SAFE: Final = re.compile(r"[A-Za-z0-9._-]{8,128}")


def valid_request_id(value: str | None) -> bool:
    """True when ``value`` is safe to log and echo.

    >>> valid_request_id("3f2a9c1e-build-7"), valid_request_id("abc\\r\\nSet-Cookie: x")
    (True, False)
    """
    return value is not None and _SAFE.fullmatch(value) is not None


def new_request_id() -> str:
    return uuid.uuid4().hex


def _incoming(request: HttpRequest) -> str:
    value = request.META.get(_META_KEY)
    return value if isinstance(value, str) and valid_request_id(value) else new_request_id()


def _tag_sentry(request_id: str) -> None:
    try:
        import sentry_sdk
    except ImportError:  # pragma: no cover - sentry is an optional extra
        return
    sentry_sdk.get_isolation_scope().set_tag("request_id", request_id)


class RequestMiddleware(HardeningMiddleware):
    """Starts ``request.hardening`` (request ID, client address), sets the request-ID
    ContextVar and echoes ``X-Request-ID``."""

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        request_id, tokens = self._start(request)
        try:
            response = self.get_response(request)
            assert isinstance(response, HttpResponseBase)  # type narrow
            return self._finish(request, response, request_id)
        finally:
            self._reset(tokens)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        request_id, tokens = self._start(request)
        try:
            result = self.get_response(request)
            assert not isinstance(result, HttpResponseBase)  # type narrow
            response = await result
            return self._finish(request, response, request_id)
        finally:
            self._reset(tokens)

    def _start(self, request: HttpRequest) -> tuple[str, tuple[Token[Any], ...]]:
        request_id = _incoming(request)
        attach(request, request_id)
        _tag_sentry(request_id)
        tag_span(request_id)  # with OpenTelemetry: the request's span carries the ID
        tokens = (
            request_id_var.set(request_id),
            user_id_var.set(None),
            request_var.set(request),
        )
        return request_id, tokens

    def _finish(
        self, request: HttpRequest, response: HttpResponseBase, request_id: str
    ) -> HttpResponseBase:
        response[HEADER] = request_id
        note_served(request_id)
        return response

    @staticmethod
    def _reset(tokens: tuple[Token[Any], ...]) -> None:
        request_tok, user_tok, req_tok = tokens
        request_id_var.reset(request_tok)
        user_id_var.reset(user_tok)
        request_var.reset(req_tok)
