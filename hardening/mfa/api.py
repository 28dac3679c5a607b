"""The MFA enrollment API (DRF), for session and token users alike.

* ``GET /api/mfa/totp`` -> ``{"devices": [...], "recovery_codes_remaining": n}``
* ``POST /api/mfa/totp`` ``{"name"?}`` -> 201 ``{"id", "name", "secret", "otpauth_uri", "qr_svg"}``
* ``POST /api/mfa/totp/confirm`` ``{"code", "id"?}`` -> ``{"recovery_codes": [...]}``
* ``DELETE /api/mfa/totp`` ``{"code", "id"?}`` -> 204 (a fresh TOTP or recovery code)
* ``GET /api/mfa/recovery-codes`` -> ``{"remaining": n}``
* ``POST /api/mfa/recovery-codes`` ``{"code"}`` -> ``{"recovery_codes": [...]}`` (fresh TOTP)

For a user who already has a confirmed device, adding, confirming or removing a device
needs an MFA-verified request (a session verified on ``/account/mfa/`` or a token whose
``amr`` proves a second factor), so a stolen password alone can neither add an attacker's
authenticator nor finish a pending one; confirming never upgrades such a request.
Unconfirmed devices expire after ``devices.PENDING_DEVICE_TTL`` seconds.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpResponse
from rest_framework.request import Request
from rest_framework.response import Response

from hardening.errors import error_response
from hardening.mfa import devices, events, recovery, throttle, totp
from hardening.mfa.attempts import verify_code
from hardening.mfa.endpoints import EnrollmentView, factor_entry, mark_session, needs_mfa
from hardening.mfa.models import RecoveryCode, TOTPDevice
from hardening.observability.audit import audit
from hardening.parsers import clean_string


def _field(request: Request, name: str, *, max_length: int = 64) -> str | None:
    data = request.data if isinstance(request.data, dict) else {}
    value = data.get(name)
    if clean_string(value) and 0 < len(value.strip()) <= max_length:
        return value.strip()
    return None


def _device_id(request: Request) -> int | None:
    data = request.data if isinstance(request.data, dict) else {}
    value = data.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _code_refused(reason: str, retry_after: int) -> HttpResponse:
    if reason == "throttled":
        return error_response(
            429,
            "mfa_throttled",
            "Too many MFA attempts; try again later.",
            headers={"Retry-After": str(max(1, retry_after))},
        )
    return error_response(403, "invalid_code", "The code is not valid.")


def _missing_code() -> HttpResponse:
    events.failure("bad_request", None)
    return error_response(400, "invalid_request", 'Send JSON {"code": "123456"}.')


class TOTPView(EnrollmentView):
    def get(self, request: Request) -> Response:
        rows = TOTPDevice.objects.filter(user=request.user).order_by("pk")
        return Response(
            {
                "devices": [factor_entry(d, confirmed=d.confirmed) for d in rows],
                "recovery_codes_remaining": recovery.remaining(request.user),
            }
        )

    def post(self, request: Request) -> HttpResponse:
        user = request.user
        name = _field(request, "name") or "default"
        refused = needs_mfa(request)
        if refused is not None:
            return refused
        if TOTPDevice.objects.filter(user=user, confirmed=True, name=name).exists():
            return error_response(409, "device_exists", f"A device named {name!r} exists.")
        device, secret = devices.create_device(user, name)
        uri = devices.device_uri(device, secret)
        body = {
            "id": device.pk,
            "name": device.name,
            "secret": secret,
            "otpauth_uri": uri,
            "qr_svg": totp.qr_svg(uri),
        }
        response = Response(body, status=201)
        response["Cache-Control"] = "no-store"
        return response

    def delete(self, request: Request) -> HttpResponse:
        code = _field(request, "code")
        if code is None:
            return _missing_code()
        refused = needs_mfa(request)
        if refused is not None:
            return refused
        reason, _method, retry = verify_code(request._request, request.user, code)
        if reason != "ok":
            return _code_refused(reason, retry)
        targets = TOTPDevice.objects.filter(user=request.user)
        device_id = _device_id(request)
        if device_id is not None:
            targets = targets.filter(pk=device_id)
        with transaction.atomic():
            removed, _ = targets.delete()
            if not devices.has_mfa(request.user):
                RecoveryCode.objects.filter(user=request.user).delete()
        audit("mfa.disabled", request=request._request, devices=removed)
        return HttpResponse(status=204)


class TOTPConfirmView(EnrollmentView):
    def post(self, request: Request) -> HttpResponse:
        code = _field(request, "code")
        if code is None:
            return _missing_code()
        user = request.user
        refused = needs_mfa(request)
        if refused is not None:
            return refused
        had_mfa = devices.has_mfa(user)
        pending = devices.pending_devices(user)
        device_id = _device_id(request)
        if device_id is not None:
            pending = pending.filter(pk=device_id)
        if not pending.exists():
            return error_response(404, "no_pending_device", "Start with POST /api/mfa/totp.")
        ip = throttle.client_ip(request._request)
        wait = throttle.blocked_for(user.pk, ip)
        if wait:
            events.failure("throttled", request._request, scope="user_or_ip")
            return _code_refused("throttled", wait)
        outcome = devices.verify_totp(pending, code, confirm=True)
        if not outcome.ok:
            if outcome.reason != "throttled":
                throttle.record_failure(user.pk, ip)
            events.failure(outcome.reason, request._request, device_id=outcome.device_id)
            return _code_refused(outcome.reason, outcome.retry_after)
        codes: list[str] = []
        if recovery.remaining(user) == 0:
            codes = recovery.generate(user)
        audit("mfa.enrolled", request=request._request, device_id=outcome.device_id)
        if not had_mfa:  # enrollment itself proves the new factor; a 2nd device never does
            mark_session(request, "otp")
        body: dict[str, Any] = {
            "recovery_codes": codes,
            "recovery_codes_remaining": recovery.remaining(user),
        }
        response = Response(body)
        response["Cache-Control"] = "no-store"
        return response


class RecoveryCodesView(EnrollmentView):
    def get(self, request: Request) -> Response:
        return Response({"remaining": recovery.remaining(request.user)})

    def post(self, request: Request) -> HttpResponse:
        code = _field(request, "code")
        if code is None or recovery.looks_like_recovery_code(code):
            return _missing_code()
        if not TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
            return error_response(409, "mfa_not_enabled", "Enroll a TOTP device first.")
        reason, _method, retry = verify_code(request._request, request.user, code)
        if reason != "ok":
            return _code_refused(reason, retry)
        codes = recovery.generate(request.user)
        audit("mfa.recovery_codes_regenerated", request=request._request)
        response = Response({"recovery_codes": codes, "recovery_codes_remaining": len(codes)})
        response["Cache-Control"] = "no-store"
        return response
