"""``POST /api/auth/token``, ``/api/auth/token/refresh`` and ``/api/auth/logout``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from django.contrib.auth import authenticate as authenticate_password
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
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
from rest_framework_simplejwt.exceptions import TokenError

from hardening.conf import conf
from hardening.errors import error_response
from hardening.jwt import lifecycle
from hardening.jwt.authentication import BearerTokenAuthentication
from hardening.jwt.tokens import issue_token_pair, revoke_access_token
from hardening.mfa import lockout
from hardening.observability.audit import audit
from hardening.observability.auth_events import login_failed, login_succeeded
from hardening.observability.metrics import AUTH_FAILURES
from hardening.parsers import JSONParser, clean_string
from hardening.request import state

if TYPE_CHECKING:
    from hardening.jwt.simplejwt import HardeningRefreshToken

__all__ = ["logout", "refresh", "token"]

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
    for path in conf.HARDENING_LOGIN_CHALLENGES:
        challenge = import_string(path)(request._request, user)
        if challenge is not None:
            return Response(challenge)
    pair = issue_token_pair(user, amr=["pwd"], auth_time=int(time.time()))
    login_succeeded(request._request, user, amr=["pwd"])
    audit("token.issued", request=request._request, user_id=str(user.pk), amr="pwd")
    return Response(pair)


def _refresh_token(request: Request) -> HardeningRefreshToken | None:
    from hardening.jwt.simplejwt import HardeningRefreshToken, TokenReused

    raw = _string(request.data, "refresh")
    if raw is None:
        return None
    try:
        return HardeningRefreshToken(raw)  # type: ignore[arg-type]
    except TokenReused as reused:  # a rotated token again: a thief or a victim holds it
        lifecycle.reuse_detected(request._request, reused.payload)
        return None
    except TokenError:
        return None


def _blacklist(refresh_token: HardeningRefreshToken, user: Any = None) -> bool:
    """Blacklist once; False when another request already did (replayed refresh)."""
    try:
        with transaction.atomic():
            created = refresh_token.blacklist(user)
    except IntegrityError:
        return False
    return bool(created)


@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@parser_classes([JSONParser])
def refresh(request: Request) -> HttpResponseBase:
    """Rotate: the presented refresh token is blacklisted and a new pair is issued."""
    old = _refresh_token(request)
    if old is None:
        return _refresh_invalid(request._request)
    model = get_user_model()
    user = model._default_manager.filter(pk=old.get("user_id")).first()
    family = str(old.get("fam") or old.get("jti"))
    if (
        user is None
        or not user.is_active
        or not lifecycle.password_unchanged(old.payload, user)
        or lifecycle.family_revoked(family)
    ):
        return _refresh_invalid(request._request)
    if not _blacklist(old, user):  # a concurrent request rotated it first: reuse
        lifecycle.reuse_detected(request._request, old.payload)
        return _refresh_invalid(request._request)
    amr = old.get("amr") if isinstance(old.get("amr"), list) else ["pwd"]
    pair = issue_token_pair(
        user, amr=[str(m) for m in amr], auth_time=old.get("auth_time"), family=family
    )
    audit("token.issued", request=request._request, user_id=str(user.pk), via="refresh")
    return Response(pair)


@api_view(["POST"])
@authentication_classes([BearerTokenAuthentication])
@permission_classes([AllowAny])
@parser_classes([JSONParser])
def logout(request: Request) -> HttpResponseBase:
    """Blacklist the refresh token (and, if configured, the access token used)."""
    old = _refresh_token(request)
    if old is None:
        return _refresh_invalid(request._request)
    _blacklist(old)
    claims = request.auth
    if (
        conf.HARDENING_JWT_REVOKE_ACCESS_TOKENS
        and isinstance(claims, dict)
        and getattr(request._request, "hardening_auth_kind", None) == "jwt"
    ):
        revoke_access_token(claims)
    audit("token.revoked", request=request._request, user_id=str(old.get("user_id")))
    return Response(status=204)
