"""Passwordless login with a passkey (JSON); the token login's passkey step is in
:mod:`hardening.mfa.login`, the other passkey endpoints in :mod:`hardening.mfa.passkey_views`.

* ``POST /api/auth/passkey/options`` ``{"session"?}`` -> ``{"publicKey", "ceremony"}``;
  then ``POST /api/auth/passkey`` ``{"credential", "ceremony"}`` -> tokens (``amr``
  ``["hwk"|"swk", "mfa"]``); with ``"session": true`` instead of the handle
  (CSRF-checked), a session login.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from hardening import clock
from hardening.mfa import challenges, passkeys, signin, throttle
from hardening.mfa.attempts import limited, passkey_failed, throttled
from hardening.mfa.challenges import PasskeyError
from hardening.mfa.endpoints import json_body, passkey_options, passkey_refused, session_binding
from hardening.mfa.policy import mark_session_verified
from hardening.observability.auth_events import login_succeeded
from hardening.parsers import clean_string


def _no_view(request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
    return HttpResponse()


def _csrf_refused(request: HttpRequest) -> HttpResponse | None:
    """A session login must pass Django's CSRF check (login CSRF); a token login needs none."""
    middleware = CsrfViewMiddleware(lambda r: HttpResponse())
    refused = middleware.process_view(request, _no_view, (), {})
    return refused if isinstance(refused, HttpResponse) else None


def _login_binding(request: HttpRequest, session: bool, ceremony: Any) -> str | None:
    """A session login is bound to the session; a token login to the opaque ``ceremony``
    handle its options answer carried (so clients never share a binding)."""
    if session:
        return session_binding(request, None)
    if not clean_string(ceremony) or not 0 < len(ceremony) <= 128:
        return None
    return challenges.binding_of(f"ceremony:{ceremony}")


@csrf_exempt  # checked below when the login is to set a session
@never_cache
@require_POST
def login_options(request: HttpRequest) -> HttpResponse:
    session = json_body(request).get("session") is True
    if session and (refused := _csrf_refused(request)) is not None:
        return refused
    ceremony = None if session else secrets.token_urlsafe(32)
    binding = _login_binding(request, session, ceremony)
    assert binding is not None  # type narrow
    try:
        body = passkeys.authentication_options(request, "login", binding)
    except PasskeyError as exc:
        return passkey_refused(exc)
    response = passkey_options(body)
    if ceremony is not None:
        response = JsonResponse({"publicKey": body, "ceremony": ceremony})
        response["Cache-Control"] = "no-store"
    return response


@csrf_exempt  # checked below when the login is to set a session
@never_cache
@require_POST
def passkey_login(request: HttpRequest) -> HttpResponse:
    """Passwordless: a discoverable credential with user verification -> tokens or session."""
    data = json_body(request)
    session = data.get("session") is True
    if session and (refused := _csrf_refused(request)) is not None:
        return refused
    ip = throttle.client_ip(request)
    wait = throttle.ip_blocked_for(ip)
    if wait:
        passkeys.failed(request, "login", "throttled")
        return throttled(wait)
    credential = data.get("credential")
    binding = _login_binding(request, session, data.get("ceremony"))
    if binding is None:
        return passkey_refused(PasskeyError("bad_request"))
    try:
        row = passkeys.lookup(credential)
    except PasskeyError as exc:
        throttle.record_ip_failure(ip)
        passkeys.failed(request, "login", exc.reason)
        return passkey_refused(exc)
    user = row.user
    if not user.is_active:
        throttle.record_ip_failure(ip)
        passkeys.failed(request, "login", "inactive")
        return passkey_refused(PasskeyError("invalid"))
    blocked = limited(request, user)
    if blocked is not None:
        return blocked
    try:
        result = passkeys.authenticate(request, "login", binding, credential, row)
    except PasskeyError as exc:
        passkey_failed(request, user, exc)
        return passkey_refused(exc)
    throttle.reset_user(user.pk)
    amr = [result.method, "mfa"]
    if session:
        login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
        mark_session_verified(request, result.method)
        login_succeeded(request, user, amr=amr)
        target = str(data.get("next") or "") if clean_string(data.get("next")) else ""
        return JsonResponse({"next": signin.safe_next(request, target) or "/"})
    from hardening.jwt.tokens import issue_token_pair

    pair = issue_token_pair(user, amr=amr, auth_time=int(clock.now()))
    login_succeeded(request, user, amr=amr)
    response = JsonResponse(pair)
    response["Cache-Control"] = "no-store"
    return response
