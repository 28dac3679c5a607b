"""One attempt at a second factor, with every limit applied: the per-user and per-IP
throttle (:mod:`hardening.mfa.throttle`), the account lockout (:mod:`hardening.mfa.lockout`)
and each TOTP device's back-off.

Every way in checks a factor here: the MFA page, the session login, the enrollment API and
the token login's step (a code: :func:`verify_code`), the passkey endpoints (before the
assertion :func:`limited`, after a refused one :func:`passkey_failed`).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from hardening.errors import error_response
from hardening.mfa import events, lockout, recovery, throttle
from hardening.mfa.challenges import PasskeyError
from hardening.mfa.devices import reset_backoff, verify_totp
from hardening.mfa.models import TOTPDevice
from hardening.observability.audit import audit


def verify_code(request: HttpRequest, user: Any, code: str) -> tuple[str, str, int]:
    """Check a TOTP or recovery code for ``user`` with every limit applied.

    Returns ``(reason, method, retry_after)``: reason ``ok`` (method ``otp`` or ``mfa``),
    ``invalid``, ``replay`` or ``throttled``.  Emits the audit events and metrics.
    """
    ip = throttle.client_ip(request)
    username = user.get_username()
    wait = max(throttle.blocked_for(user.pk, ip), lockout.blocked_for(username))
    if wait:
        events.failure("throttled", request, user_id=str(user.pk), scope="user_or_ip")
        return "throttled", "", wait
    if recovery.looks_like_recovery_code(code):
        if recovery.use(user, code):
            throttle.reset_user(user.pk)
            reset_backoff(user)  # the per-device back-off ends with a recovery code
            left = recovery.remaining(user)
            audit("mfa.recovery_code_used", request=request, user_id=str(user.pk), remaining=left)
            return "ok", "mfa", 0
        throttle.record_failure(user.pk, ip)
        lockout.record_failure(username, request)
        events.failure("invalid_recovery_code", request, user_id=str(user.pk))
        return "invalid", "", 0
    outcome = verify_totp(TOTPDevice.objects.filter(user=user, confirmed=True), code)
    if outcome.ok:
        throttle.reset_user(user.pk)
        audit("mfa.verified", request=request, user_id=str(user.pk), device_id=outcome.device_id)
        return "ok", "otp", 0
    fields = {"user_id": str(user.pk), "device_id": outcome.device_id}
    if outcome.reason == "throttled":
        events.failure("throttled", request, scope="device", **fields)
        return "throttled", "", outcome.retry_after
    throttle.record_failure(user.pk, ip)
    if outcome.reason == "invalid":  # a replay is a right code sent twice: no lock for it
        lockout.record_failure(username, request)
    events.failure(outcome.reason, request, **fields)
    return outcome.reason, "", 0


def throttled(retry_after: int) -> HttpResponse:
    """The 429 of a throttled attempt."""
    retry = str(max(1, retry_after))
    detail = "Too many MFA attempts; try again later."
    return error_response(429, "mfa_throttled", detail, headers={"Retry-After": retry})


def limited(request: HttpRequest, user: Any) -> HttpResponse | None:
    """The refusal of a passkey attempt by ``user`` while locked out or throttled, else None."""
    wait = lockout.blocked_for(user.get_username())
    if wait:
        return lockout.locked_response(wait)
    wait = throttle.blocked_for(user.pk, throttle.client_ip(request))
    return throttled(wait) if wait else None


def passkey_failed(request: HttpRequest, user: Any, exc: PasskeyError) -> None:
    """Count a refused assertion against ``user`` (throttle and lockout), as a wrong code."""
    if exc.reason in ("invalid", "sign_count", "unknown_credential"):
        throttle.record_failure(user.pk, throttle.client_ip(request))
        lockout.record_failure(user.get_username(), request)
