"""What the MFA endpoints share: the DRF base of the enrollment endpoints (TOTP and passkeys),
their MFA rule and a factor's list entry, a JSON body, the passkey answers, and a ceremony
bound to the session.

The endpoints themselves: :mod:`.api` (TOTP and recovery codes), :mod:`.passkey_views`
(passkeys), :mod:`.login` (the token login's step) and :mod:`.passkey_login` (passwordless).
"""

from __future__ import annotations

import secrets
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from hardening.errors import error_response
from hardening.mfa import challenges, devices, events
from hardening.mfa.challenges import PasskeyError
from hardening.mfa.models import TOTPDevice, WebAuthnCredential
from hardening.mfa.policy import is_mfa_verified, mark_session_verified
from hardening.parsers import JSONError, JSONParser, loads

SESSION_BINDING = "_hardening_webauthn"
_MESSAGES = {
    "unavailable": (503, "webauthn_unavailable", "Passkeys are not available on this site."),
    "bad_request": (400, "invalid_request", "Send the credential as JSON."),
    "duplicate": (409, "passkey_exists", "This passkey is already registered."),
}


class EnrollmentView(APIView):
    """Base of the enrollment endpoints: signed in (session or token), JSON."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]
    mfa_exempt = True  # reachable before enrollment under HARDENING_MFA_REQUIRED


def needs_mfa(request: Request) -> HttpResponse | None:
    """403 when the user has a confirmed device and this request has not passed MFA."""
    has_mfa = devices.has_mfa(request.user)
    if has_mfa and not is_mfa_verified(request):
        events.failure("mfa_required", request._request)
        return error_response(
            403, "mfa_required", "Verify with your current device before changing devices."
        )
    return None


def mark_session(request: Request, method: str) -> None:
    """Mark a session request MFA-verified by ``method`` (a token's ``amr`` is fixed)."""
    if getattr(request, "successful_authenticator", None).__class__.__name__ == (
        "SessionAuthentication"
    ):
        mark_session_verified(request._request, method)


def factor_entry(row: TOTPDevice | WebAuthnCredential, **extra: Any) -> dict[str, Any]:
    """A TOTP device or passkey as its list shows it: ``id``, ``name``, the ``extra``
    fields, ``created_at`` and ``last_used_at`` (ISO 8601; None before first use)."""
    return {
        "id": row.pk,
        "name": row.name,
        **extra,
        "created_at": row.created_at.isoformat(),
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
    }


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The JSON object of the body ({} when it is none)."""
    try:
        data = loads(request.body or b"{}")
    except JSONError:
        return {}
    return data if isinstance(data, dict) else {}


def passkey_options(body: dict[str, Any]) -> HttpResponse:
    """A ceremony's options for the browser (``{"publicKey": ...}``)."""
    response = JsonResponse({"publicKey": body})
    response["Cache-Control"] = "no-store"
    return response


def passkey_refused(exc: PasskeyError, **extra: Any) -> HttpResponse:
    """The answer to a refused ceremony."""
    if exc.reason in _MESSAGES:
        status, code, detail = _MESSAGES[exc.reason]
        return error_response(status, code, detail)
    return error_response(401, "invalid_assertion", "The passkey was not accepted.", **extra)


def session_binding(request: HttpRequest, user: Any) -> str:
    """Bind a ceremony to this session (and user): a random value kept in the session."""
    value = request.session.get(SESSION_BINDING)
    if not isinstance(value, str):
        value = secrets.token_urlsafe(32)
        request.session[SESSION_BINDING] = value
    return challenges.binding_of(f"session:{value}:{getattr(user, 'pk', '-')}")
