"""``/account/mfa/``: the HTML enrollment and verification page for session users.

No inline script and no inline style: the QR code is an inline ``<svg>`` element made by
segno, and the passkey buttons are driven by a static file (``/account/mfa/passkeys.js``),
so the page works under ``Content-Security-Policy: default-src 'self'``.

For a user who already has a confirmed device, a session that has not passed MFA here
sees no pending secret or QR code and cannot add, confirm or remove a device: a password
alone never yields a second factor (issue 12).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from hardening import crypto, formfields
from hardening.errors import error_response
from hardening.mfa import devices, events, messages, passkeys, recovery, throttle, totp, trusted
from hardening.mfa.attempts import verify_code
from hardening.mfa.models import RecoveryCode, TOTPDevice, TrustedDevice, WebAuthnCredential
from hardening.mfa.policy import is_mfa_verified, is_recent, mark_session_verified
from hardening.observability.audit import audit

#: The fields this page reads and their maximum lengths (a longer value is a 400).
#: How recent a passkey step must be to regenerate recovery codes without a TOTP code.
RECENT_SECONDS = 300
LIMITS = {"action": 32, "code": 64, "name": 64, "next": 2048, "id": 20}


def _safe_next(request: HttpRequest, value: str) -> str:
    allowed = url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return value if value and allowed else ""


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user = request.user
    fresh = set(devices.pending_devices(user).values_list("pk", flat=True))
    rows = list(TOTPDevice.objects.filter(user=user).order_by("pk"))
    has_mfa = devices.has_mfa(user)
    verified = is_mfa_verified(request)
    pending = None
    if verified or not has_mfa:  # a password-only session never sees a pending secret
        pending = next((d for d in rows if not d.confirmed and d.pk in fresh), None)
    context: dict[str, Any] = {
        "devices": rows,
        "has_mfa": has_mfa,
        "verified": verified,
        "pending": pending,
        "recovery_remaining": recovery.remaining(user),
        "passkeys_enabled": passkeys.enabled(request),
        "has_totp": any(d.confirmed for d in rows),
        "passkeys": list(WebAuthnCredential.objects.filter(user=user).order_by("pk")),
        "trusted_devices": list(TrustedDevice.objects.filter(user=user).order_by("-created_at")),
        "next": _safe_next(request, request.POST.get("next") or request.GET.get("next", "")),
    }
    if pending is not None:
        secret = pending.secret
        context["secret"] = secret
        context["qr_svg"] = totp.qr_svg(devices.device_uri(pending, secret))
    context.update(extra)
    return context


def _page(request: HttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    response = render(request, "hardening/mfa.html", _context(request, **extra), status=status)
    response["Cache-Control"] = "no-store"
    return response


def _refused(request: HttpRequest, reason: str, retry_after: int) -> HttpResponse:
    status = 429 if reason == "throttled" else 403
    error = messages.refusal(request, request.user.pk, reason, retry_after)
    response = _page(request, status, error=error)
    if status == 429:
        response["Retry-After"] = str(max(1, retry_after))
    return response


def _confirm(request: HttpRequest, code: str, *, has_mfa: bool) -> HttpResponse:
    user = request.user
    if has_mfa and not is_mfa_verified(request):
        events.failure("mfa_required", request)
        return _page(request, 403, error="Verify with your current device first.")
    ip = throttle.client_ip(request)
    wait = throttle.blocked_for(user.pk, ip)
    if wait:
        events.failure("throttled", request, scope="user_or_ip")
        return _refused(request, "throttled", wait)
    outcome = devices.verify_totp(devices.pending_devices(user), code, confirm=True)
    if not outcome.ok:
        if outcome.reason != "throttled":
            throttle.record_failure(user.pk, ip)
        events.failure(outcome.reason, request, device_id=outcome.device_id)
        return _refused(request, outcome.reason, outcome.retry_after)
    codes = recovery.generate(user) if recovery.remaining(user) == 0 else []
    audit("mfa.enrolled", request=request, device_id=outcome.device_id)
    if not has_mfa:  # enrollment proves the new factor; a second device never does
        mark_session_verified(request, "otp")
    return _page(request, message="Two-factor authentication is on.", recovery_codes=codes)


def _post(request: HttpRequest) -> HttpResponse:
    user = request.user
    action = request.POST.get("action", "")
    code = request.POST.get("code", "").strip()
    has_mfa = devices.has_mfa(user)
    if action in ("enroll", "add"):
        if has_mfa and not is_mfa_verified(request):
            return _page(request, 403, error="Verify with your current device first.")
        name = request.POST.get("name", "").strip() or "default"
        if TOTPDevice.objects.filter(user=user, name=name, confirmed=True).exists():
            return _page(request, 409, error="An authenticator with that name exists.")
        devices.create_device(user, name)
        return _page(request)
    if action in ("forget", "forget-all"):
        return _forget(request, action)
    if action == "regenerate" and not code and has_mfa and not _has_totp(user):
        return _regenerate_after_passkey(request)
    if not code:
        return _page(request, 400, error="Enter a code.")
    if action == "confirm":
        return _confirm(request, code, has_mfa=has_mfa)
    if action not in ("verify", "regenerate", "disable") or not has_mfa:
        return _page(request, 400, error="Unknown action.")
    if action == "disable" and not is_mfa_verified(request):
        return _page(request, 403, error="Verify with your current device first.")
    if action == "regenerate" and recovery.looks_like_recovery_code(code):
        return _page(request, 400, error="Use a code from your authenticator app.")
    reason, method, retry = verify_code(request, user, code)
    if reason != "ok":
        return _refused(request, reason, retry)
    if action == "verify":
        mark_session_verified(request, method)
        target = _safe_next(request, request.POST.get("next", ""))
        return HttpResponseRedirect(target) if target else _page(request, message="Verified.")
    if action == "regenerate":
        codes = recovery.generate(user)
        audit("mfa.recovery_codes_regenerated", request=request)
        return _page(request, message="New recovery codes.", recovery_codes=codes)
    with transaction.atomic():
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        WebAuthnCredential.objects.filter(user=user).delete()
        TrustedDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
    request.session.pop("_hardening_mfa", None)
    audit("mfa.disabled", request=request, devices=removed)
    return _page(request, message="Two-factor authentication is off.")


def _has_totp(user: Any) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def _regenerate_after_passkey(request: HttpRequest) -> HttpResponse:
    """A user with passkeys only has no code to type: a passkey step within the last
    :data:`RECENT_SECONDS` stands for it."""
    if not is_recent(request, RECENT_SECONDS):
        return _page(request, 403, error="Use your passkey again first (Confirm it's you).")
    codes = recovery.generate(request.user)
    audit("mfa.recovery_codes_regenerated", request=request)
    return _page(request, message="New recovery codes.", recovery_codes=codes)


def _forget(request: HttpRequest, action: str) -> HttpResponse:
    """Revoke one trusted browser (``id``) or all of them: from a verified session only."""
    if not is_mfa_verified(request):
        return _page(request, 403, error="Verify with your current device first.")
    pk = request.POST.get("id", "")
    if action == "forget" and not pk.isdigit():
        return _page(request, 400, error="Unknown browser.")
    removed = trusted.revoke(request, request.user, int(pk) if action == "forget" else None)
    message = "Forgot the browser." if removed == 1 else f"Forgot {removed} browsers."
    return _page(request, message=message)


@never_cache
@require_http_methods(["GET", "POST"])
def mfa_page(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), str(settings.LOGIN_URL))
    refused = formfields.refusal(request, LIMITS)
    try:
        if refused is not None:  # NUL, a lone surrogate or too long: before any lookup
            return _page(request, 400, error=refused.message, next="")
        return _post(request) if request.method == "POST" else _page(request)
    except crypto.DecryptionError:
        return error_response(503, "mfa_unavailable", "MFA is unavailable right now.")
