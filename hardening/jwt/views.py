"""``POST /api/auth/token``, ``/api/auth/token/refresh`` and ``/api/auth/logout``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate as authenticate_password
from django.http import HttpRequest, HttpResponseBase
from django.utils.module_loading import import_string
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    parser_classes,
    permission_classes,
)
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from hardening import clock
from hardening.errors import error_response
from hardening.jwt import tokens
from hardening.jwt.auth import BearerTokenAuthentication
from hardening.mfa import lockout
from hardening.observability.audit import audit
from hardening.observability.auth_events import login_failed, login_succeeded
from hardening.observability.metrics import AUTH_FAILURES
from hardening.parsers import JSONParser, clean_string
from hardening.request import state

#: Dotted paths of ``(request, user) -> dict | None`` called by ``POST /api/auth/token``
#: after the password is verified; the first non-None result is returned instead of tokens.
#: A hook, so that this room does not import the MFA room: the MFA step is always asked
#: of users with a confirmed device.
LOGIN_CHALLENGES = ["hardening.mfa.login.mfa_challenge"]
_BEARER = {"WWW-Authenticate": 'Bearer realm="api"'}


def _string(data: Any, name: str) -> str | None:
    value = data.get(name) if isinstance(data, dict) else None
    if not clean_string(value) or not 0 < len(value) <= 8192:  # NUL, surrogates: never 500
        return None
    return str(value)


def _refresh_invalid(request: HttpRequest) -> HttpResponseBase:
    AUTH_FAILURES.labels(reason="refresh_invalid").inc()
    audit("token.rejected", request=request, reason="refresh_invalid")
    detail = "The refresh token is invalid, expired or revoked."
    return error_response(401, "invalid_token", detail, headers=_BEARER)


@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@parser_classes([JSONParser])
def token(request: Request) -> HttpResponseBase:
    """Username and password → token pair, or the first login challenge (MFA)."""
    username, password = _string(request.data, "username"), _string(request.data, "password")
    if username is None or password is None:
        return error_response(400, "invalid", "username and password are required.")
    wait = lockout.blocked_for(username)  # before the password is even hashed
    if wait:
        return lockout.locked_response(wait)
    user = authenticate_password(request._request, username=username, password=password)
    refused = state(request).lockout_wait
    if refused:  # LockoutBackend refused it (a concurrent request locked the account)
        return lockout.locked_response(refused)
    if user is None or not user.is_active:
        # authenticate() already sent user_login_failed (audited and counted by
        # hardening.observability.auth_events) unless a backend returned an inactive user.
        if user is not None:
            login_failed(request._request)
        return error_response(
            401, "invalid_credentials", "The username or password is wrong.", headers=_BEARER
        )
    for path in LOGIN_CHALLENGES:
        challenge = import_string(path)(request._request, user)
        if challenge is not None:
            return Response(challenge)
    pair = tokens.issue_token_pair(user, amr=["pwd"], auth_time=int(clock.now()))
    login_succeeded(request._request, user, amr=["pwd"])
    audit("token.issued", request=request._request, user_id=str(user.pk), amr="pwd")
    return Response(pair)


@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@parser_classes([JSONParser])
def refresh(request: Request) -> HttpResponseBase:
    """Rotate: a new pair for the family's current refresh token; any older one is reuse."""
    raw = _string(request.data, "refresh")
    pair = tokens.rotate(request._request, raw) if raw is not None else None
    if pair is None:
        return _refresh_invalid(request._request)
    return Response(pair)


@api_view(["POST"])
@authentication_classes([BearerTokenAuthentication])
@permission_classes([AllowAny])
@parser_classes([JSONParser])
def logout(request: Request) -> HttpResponseBase:
    """End the refresh token's family (and, if configured, revoke the access token used)."""
    raw = _string(request.data, "refresh")
    credential = state(request).credential
    own = credential.claims if credential is not None and credential.kind == "jwt" else None
    if raw is None or not tokens.logout(request._request, raw, own):
        return _refresh_invalid(request._request)
    return Response(status=204)


def jwks(request: HttpRequest) -> HttpResponseBase:
    """``GET /.well-known/jwks.json``: the public keys of the own tokens (not retired), so
    gateways and other services verify them (``{"keys": []}`` with HS*)."""
    from django.http import JsonResponse

    from hardening.jwt.ownkeys import JWKS_MAX_AGE
    from hardening.jwt.ownkeys import jwks as document

    if request.method not in ("GET", "HEAD"):
        return error_response(405, "method_not_allowed", "Use GET.", headers={"Allow": "GET, HEAD"})
    response = JsonResponse(document())
    response["Cache-Control"] = f"public, max-age={JWKS_MAX_AGE}"
    response["Access-Control-Allow-Origin"] = "*"  # public keys: any origin may read them
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
