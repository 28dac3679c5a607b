"""Who has passed MFA, when, and who must: the facts the permissions and decorators use.

A request counts as MFA-verified when

* its token claims (``request.auth`` of the JWT authentication classes, or
  ``request.auth_claims`` set by ``hardening.jwt``'s middleware)
  carry an ``amr`` containing ``otp`` or ``mfa``; ``auth_time`` is when that happened; or
* it has no token claims and its session was verified on ``/account/mfa/`` (the session
  stores the user id and the time, so a session of another user never inherits it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

from hardening.conf import conf
from hardening.mfa import clock

__all__ = [
    "MFA_METHODS",
    "SESSION_KEY",
    "auth_time",
    "is_mfa_verified",
    "mark_session_verified",
    "mfa_required_for",
    "token_claims",
]

#: ``amr`` values (RFC 8176) that prove a second factor: ``otp`` for TOTP, ``mfa`` for a
#: recovery code.
MFA_METHODS = frozenset({"otp", "mfa", "hwk", "swk"})
SESSION_KEY = "_hardening_mfa"


def token_claims(request: Any) -> Mapping[str, Any] | None:
    """The claims of the token that authenticated ``request`` (DRF ``request.auth``)."""
    inner = getattr(request, "_request", None)
    auth = getattr(request, "auth", None)
    for candidate in (request, inner):
        if auth is None and candidate is not None:
            # hardening.jwt's middleware stores the claims on the Django request.
            auth = getattr(candidate, "auth_claims", None)
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


def mark_session_verified(request: HttpRequest, method: str = "otp") -> None:
    """Record in the session that its user passed MFA now (a new session key: fixation)."""
    user = request.user
    request.session.cycle_key()
    request.session[SESSION_KEY] = {"user": str(user.pk), "at": int(clock.now()), "amr": method}


def mfa_required_for(user: Any) -> bool:
    """Does ``HARDENING_MFA_REQUIRED`` demand MFA from ``user``?"""
    if not conf.HARDENING_MFA_ENABLED or not getattr(user, "is_authenticated", False):
        return False
    policy = conf.HARDENING_MFA_REQUIRED
    if policy == "all":
        return True
    if policy == "staff":
        return bool(getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))
    return False
