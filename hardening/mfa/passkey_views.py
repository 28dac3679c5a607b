"""The passkey endpoints (JSON); the ceremonies themselves are in :mod:`.passkeys`.

Enrolment and removal (DRF, session or bearer token; MFA-verified once the user has a
factor, as for TOTP):

* ``GET /api/mfa/webauthn`` -> ``{"passkeys": [...]}``; ``DELETE`` ``{"id"}`` -> 204
* ``POST /api/mfa/webauthn/register/options`` -> ``{"publicKey": creation options}``
* ``POST /api/mfa/webauthn/register`` ``{"name", "credential"}`` -> 201

The session's second factor (the MFA page, the login page's MFA step; CSRF-protected):
``POST /api/mfa/webauthn/verify/options``, ``POST /api/mfa/webauthn/verify``
``{"credential", "trust"?}`` -> ``{"next"}``.

The token login's second factor is in :mod:`.login`, passwordless login in :mod:`.passkey_login`;
what these endpoints share in :mod:`.endpoints` and :mod:`.attempts`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth import login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from rest_framework.request import Request
from rest_framework.response import Response

from hardening import clock
from hardening.errors import error_response
from hardening.mfa import challenges, devices, passkeys, recovery, signin, throttle, trusted
from hardening.mfa.attempts import limited, passkey_failed
from hardening.mfa.challenges import PasskeyError
from hardening.mfa.endpoints import (
    EnrollmentView,
    factor_entry,
    json_body,
    mark_session,
    needs_mfa,
    passkey_options,
    passkey_refused,
    session_binding,
)
from hardening.mfa.models import RecoveryCode, TrustedDevice, WebAuthnCredential
from hardening.mfa.policy import is_mfa_verified, mark_session_verified, token_claims
from hardening.observability.audit import audit
from hardening.parsers import clean_string


def _request_binding(request: Request) -> str:
    claims = token_claims(request)
    if claims is None:
        return session_binding(request._request, request.user)
    token = claims.get("jti") or claims.get("sid") or ""
    return challenges.binding_of(f"token:{token}:{request.user.pk}")


class PasskeysView(EnrollmentView):
    def get(self, request: Request) -> Response:
        rows = WebAuthnCredential.objects.filter(user=request.user).order_by("pk")
        return Response(
            {"passkeys": [factor_entry(row, synced=row.backup_eligible) for row in rows]}
        )

    def delete(self, request: Request) -> HttpResponse:
        data = request.data if isinstance(request.data, dict) else {}
        pk = data.get("id")
        if not isinstance(pk, int) or isinstance(pk, bool):
            return error_response(400, "invalid_request", 'Send JSON {"id": 1}.')
        if not is_mfa_verified(request):
            return error_response(403, "mfa_required", "Verify with a current factor first.")
        with transaction.atomic():
            removed, _ = WebAuthnCredential.objects.filter(user=request.user, pk=pk).delete()
            if removed and not devices.has_mfa(request.user):  # the last factor
                RecoveryCode.objects.filter(user=request.user).delete()
                TrustedDevice.objects.filter(user=request.user).delete()
        if not removed:
            return error_response(404, "not_found", "No such passkey.")
        passkeys.count("remove", "ok")
        audit("mfa.passkey_removed", request=request._request, passkey_id=pk)
        return HttpResponse(status=204)


class RegisterOptionsView(EnrollmentView):
    def post(self, request: Request) -> HttpResponse:
        refused = needs_mfa(request)
        if refused is not None:
            return refused
        binding = _request_binding(request)
        try:
            return passkey_options(
                passkeys.registration_options(request._request, request.user, binding)
            )
        except PasskeyError as exc:
            return passkey_refused(exc)


class RegisterView(EnrollmentView):
    def post(self, request: Request) -> HttpResponse:
        user = request.user
        data = request.data if isinstance(request.data, dict) else {}
        name = data.get("name") or "passkey"
        if not clean_string(name) or not 0 < len(name.strip()) <= 64:
            return error_response(400, "invalid_request", "The name is 1-64 characters.")
        name = name.strip()
        refused = needs_mfa(request)
        if refused is not None:
            return refused
        if WebAuthnCredential.objects.filter(user=user, name=name).exists():
            return error_response(409, "passkey_exists", f"A passkey named {name!r} exists.")
        had_mfa = devices.has_mfa(user)
        binding = _request_binding(request)
        try:
            row = passkeys.register(request._request, user, binding, data.get("credential"), name)
        except PasskeyError as exc:
            return passkey_refused(exc)
        codes = recovery.generate(user) if recovery.remaining(user) == 0 else []
        if not had_mfa:  # enrolment proves the new factor; a second one never does
            mark_session(request, "swk" if row.backup_eligible else "hwk")
        body = {"id": row.pk, "name": row.name, "recovery_codes": codes}
        response = Response(body, status=201)
        response["Cache-Control"] = "no-store"
        return response


def _session_user(request: HttpRequest) -> tuple[Any, bool]:
    """The signed-in user, or the user of a pending password login (True)."""
    if request.user.is_authenticated:
        return request.user, False
    return signin.pending_user(request), True


def _session_view(
    view: Callable[[HttpRequest, Any, bool], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """A POST endpoint of the session's user (``view(request, user, pending)``, with
    :func:`_session_user`'s ``pending``); 401 without one.  Never cached."""

    @never_cache
    @require_POST
    @functools.wraps(view)
    def endpoint(request: HttpRequest) -> HttpResponse:
        user, pending = _session_user(request)
        if user is None:
            return error_response(401, "not_authenticated", "Sign in first.")
        return view(request, user, pending)

    return endpoint


@_session_view
def verify_options(request: HttpRequest, user: Any, pending: bool) -> HttpResponse:
    try:
        body = passkeys.authentication_options(request, "mfa", session_binding(request, user), user)
    except PasskeyError as exc:
        return passkey_refused(exc)
    return passkey_options(body)


@_session_view
def verify(request: HttpRequest, user: Any, pending: bool) -> HttpResponse:
    """The session's second factor: the MFA page's "verify", the login page's MFA step."""
    blocked = limited(request, user)
    if blocked is not None:
        return blocked
    data = json_body(request)
    try:
        row = passkeys.lookup(data.get("credential"), user)
        result = passkeys.authenticate(
            request, "mfa", session_binding(request, user), data.get("credential"), row
        )
    except PasskeyError as exc:
        passkey_failed(request, user, exc)
        return passkey_refused(exc)
    throttle.reset_user(user.pk)
    if pending:
        backend = request.session[signin.PENDING].get("backend") or None
        request.session.pop(signin.PENDING, None)
        login(request, user, backend=backend)
    mark_session_verified(request, result.method)
    target = str(data.get("next") or "") if clean_string(data.get("next")) else ""
    response = JsonResponse(
        {"next": signin.safe_next(request, target) or reverse("hardening:mfa-page")}
    )
    if data.get("trust") is True:
        trusted.remember(request, response, user, clock.now())
    return response
