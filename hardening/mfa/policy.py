"""The MFA rule, decided in one place: :func:`refusal`.

The middleware (:class:`~hardening.middleware.MFAMiddleware`), the DRF permissions
(:mod:`hardening.mfa.permissions`) and the view decorators (:mod:`hardening.mfa.decorators`)
all ask :func:`refusal` and only shape its answer (a redirect, ``False``, a JSON error).

A request counts as MFA-verified when

* its token claims (``request.auth`` of the DRF authentication classes, or the credential
  ``hardening.jwt``'s middleware put in ``request.hardening``) carry an ``amr`` containing
  ``otp`` or ``mfa``; ``auth_time`` is when that happened; or
* it has no token claims and its session was verified on ``/account/mfa/`` (the session
  stores the user id and the time, so a session of another user never inherits it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from hardening import clock
from hardening.mfa.conf import conf
from hardening.request import state

#: ``amr`` values (RFC 8176) that prove a second factor: ``otp`` for TOTP, ``mfa`` for a
#: recovery code (and a passwordless passkey login), ``hwk`` / ``swk`` for a passkey.
MFA_METHODS = frozenset({"otp", "mfa", "hwk", "swk"})
SESSION_KEY = "_hardening_mfa"

#: Credential kinds of machines (``request.hardening.credential.kind``): the policy
#: ``HARDENING_MFA_REQUIRED`` does not apply to them (a user makes an API key behind MFA,
#: hardening.apikeys.api), but they never count as MFA-verified (``RequireMFA``, step-up).
MACHINE_KINDS = frozenset({"api_key", "clerk_machine"})

MFA_REQUIRED_DETAIL = "This action needs multi-factor authentication."
STEP_UP_DETAIL = "This action needs a recent multi-factor authentication."


@dataclass(frozen=True)
class Refusal:
    """Why a request may not go on: the HTTP status, the error code and its sentence."""

    status: int
    code: str
    detail: str


NOT_AUTHENTICATED = Refusal(401, "not_authenticated", "Authentication required.")
MFA_REQUIRED = Refusal(403, "mfa_required", MFA_REQUIRED_DETAIL)
STEP_UP_REQUIRED = Refusal(403, "mfa_step_up_required", STEP_UP_DETAIL)


def refusal(
    request: Any, *, demand: bool = False, within: int | None = None, exempt: bool = False
) -> Refusal | None:
    """Why ``request`` (Django or DRF) may not go on, or None when it may.

    * By default ``HARDENING_MFA_REQUIRED`` decides (the middleware, ``MFAPolicy``): users
      the policy does not cover pass, and so does an ``exempt`` request (an exempt path or
      view); a covered user who has not passed MFA is refused.
    * ``demand=True``: the view itself demands MFA of everybody (``RequireMFA``,
      ``mfa_required``); an anonymous request is refused as not authenticated.
    * ``within=N``: the view demands MFA within the last ``N`` seconds (``RequireRecentAuth``,
      ``recent_auth_required``).
    """
    if demand or within is not None:
        if not getattr(getattr(request, "user", None), "is_authenticated", False):
            return NOT_AUTHENTICATED
        if within is not None:
            return None if is_recent(request, within) else STEP_UP_REQUIRED
        return None if is_mfa_verified(request) else MFA_REQUIRED
    if exempt or not mfa_required_for(getattr(request, "user", None)):
        return None
    if state(request).auth_kind in MACHINE_KINDS:
        return None
    return None if is_mfa_verified(request) else MFA_REQUIRED


def is_exempt_path(path: str) -> bool:
    """Is ``path`` under one of ``HARDENING_MFA_EXEMPT_PATHS`` (enrollment, login, ...)?"""
    return any(path.startswith(prefix) for prefix in conf.HARDENING_MFA_EXEMPT_PATHS)


def mfa_required_for(user: Any) -> bool:
    """Does ``HARDENING_MFA_REQUIRED`` demand MFA from ``user``?"""
    policy = conf.HARDENING_MFA_REQUIRED
    if policy == "off" or not getattr(user, "is_authenticated", False):
        return False
    if policy == "all":
        return True
    return bool(getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))


def token_claims(request: Any) -> Mapping[str, Any] | None:
    """The claims of the token that authenticated ``request`` (DRF ``request.auth``)."""
    auth = getattr(request, "auth", None)
    if auth is None:
        # hardening.jwt's middleware keeps the verified credential in request.hardening.
        credential = state(request).credential
        auth = credential.claims if credential is not None else None
    if isinstance(auth, Mapping):
        return auth
    payload = getattr(auth, "payload", None)  # simplejwt Token objects
    return payload if isinstance(payload, Mapping) else None


def _session_record(request: Any) -> dict[str, Any] | None:
    session = getattr(request, "session", None)
    user = getattr(request, "user", None)
    if session is None or user is None or not getattr(user, "is_authenticated", False):
        return None
    record = session.get(SESSION_KEY)
    if not isinstance(record, dict) or record.get("user") != str(user.pk):
        return None
    return record


def is_mfa_verified(request: Any) -> bool:
    claims = token_claims(request)
    if claims is not None:
        amr = claims.get("amr") or []
        return isinstance(amr, list | tuple) and bool(MFA_METHODS.intersection(map(str, amr)))
    return _session_record(request) is not None


def auth_time(request: Any) -> float | None:
    """When the user last authenticated with a second factor (Unix time), if known."""
    claims = token_claims(request)
    if claims is not None:
        value = claims.get("auth_time")
        return float(value) if isinstance(value, int | float) and is_mfa_verified(request) else None
    record = _session_record(request)
    if record is None:
        return None
    value = record.get("at")
    return float(value) if isinstance(value, int | float) else None


def is_recent(request: Any, seconds: int) -> bool:
    at = auth_time(request)
    return at is not None and 0 <= clock.now() - at <= seconds


def mark_session_verified(
    request: HttpRequest, method: str = "otp", at: float | None = None
) -> None:
    """Record in the session that its user passed MFA now, or at ``at`` (a trusted
    browser carries the time of the MFA that trusted it), with a new session key."""
    user = request.user
    request.session.cycle_key()
    when = int(clock.now() if at is None else at)
    request.session[SESSION_KEY] = {"user": str(user.pk), "at": when, "amr": method}
