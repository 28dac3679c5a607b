"""TOTP devices: enrollment and the one verification function everything goes through.

:func:`verify_totp` locks the user's device rows (``SELECT ... FOR UPDATE``, in primary
key order) for the duration of the check, and spends a code with a conditional
``UPDATE ... WHERE last_t < step``: of any number of concurrent requests carrying the
same code, exactly one succeeds and the others see a replay.  Failures set an
exponential back-off on each device that was tried (``factor * 2**(n-1)`` seconds after
n consecutive failures, like django-otp), capped at :data:`MAX_BACKOFF_SECONDS`; a
success (or a recovery code, :func:`reset_backoff`) resets it.

A device that is not confirmed within :data:`PENDING_DEVICE_TTL` seconds expires: it is
never shown, confirmed or counted again, and is deleted the next time the user's devices
are listed (:func:`pending_devices`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from hardening import clock
from hardening.mfa import totp
from hardening.mfa.conf import conf
from hardening.mfa.models import RecoveryCode, TOTPDevice, WebAuthnCredential

#: Digits of a code and seconds of a step for new devices (what authenticator apps expect).
TOTP_DIGITS = 6
TOTP_PERIOD = 30
#: Per-device back-off: ``factor * 2**(n-1)`` seconds after n failures (0 disables).
THROTTLE_FACTOR = 1.0
MAX_BACKOFF_EXPONENT = 30
#: The per-device back-off never exceeds the account lock bound (hardening.mfa.lockout).
MAX_BACKOFF_SECONDS = 900.0
#: Seconds an unconfirmed device stays usable for its first code (then it expires).
PENDING_DEVICE_TTL = 900


@dataclass(frozen=True)
class Outcome:
    """``reason`` is one of ``ok``, ``invalid``, ``replay``, ``throttled``, ``no_device``."""

    ok: bool
    reason: str
    device_id: int | None = None
    retry_after: int = 0
    step: int | None = None


def has_mfa(user: Any) -> bool:
    """Has ``user`` a confirmed second factor (a TOTP device or a passkey)?"""
    return bool(
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or WebAuthnCredential.objects.filter(user=user).exists()
    )


def factors(user: Any) -> list[str]:
    """The factors ``user`` can pass the MFA step with: ``totp``, ``webauthn``, ``recovery``."""
    found = []
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        found.append("totp")
    if WebAuthnCredential.objects.filter(user=user).exists():
        found.append("webauthn")
    if RecoveryCode.objects.filter(user=user, used_at__isnull=True).exists():
        found.append("recovery")
    return found


def create_device(user: Any, name: str = "default") -> tuple[TOTPDevice, str]:
    """A new unconfirmed device; returns it and its plain secret (show it once).

    An unconfirmed device of the same name is replaced, a confirmed one is kept (the
    caller reports the conflict).
    """
    secret = totp.new_secret()
    pending_devices(user)  # drops the expired ones
    TOTPDevice.objects.filter(user=user, name=name, confirmed=False).delete()
    device = TOTPDevice(
        user=user,
        name=name,
        digits=TOTP_DIGITS,
        period=TOTP_PERIOD,
    )
    device.secret = secret
    device.save()
    return device, secret


def pending_devices(user: Any) -> QuerySet[TOTPDevice]:
    """The user's unconfirmed devices that have not expired (expired ones are deleted)."""
    cutoff = timezone.now() - timedelta(seconds=PENDING_DEVICE_TTL)
    mine: QuerySet[TOTPDevice] = TOTPDevice.objects.filter(user=user, confirmed=False)
    mine.filter(created_at__lte=cutoff).delete()
    fresh: QuerySet[TOTPDevice] = mine.filter(created_at__gt=cutoff)
    return fresh


def reset_backoff(user: Any) -> None:
    """Lift the per-device back-off of the user's devices (after a recovery code)."""
    TOTPDevice.objects.filter(user=user).update(failure_count=0, throttled_until=None)


def device_uri(device: TOTPDevice, secret: str) -> str:
    user = device.user
    account = str(getattr(user, user.USERNAME_FIELD, "") or user.pk)
    return totp.provisioning_uri(
        secret,
        account=account,
        issuer=conf.HARDENING_MFA_ISSUER,
        digits=device.digits,
        period=device.period,
    )


def _backoff(failures: int) -> float:
    factor = THROTTLE_FACTOR
    if factor <= 0:
        return 0.0
    return min(MAX_BACKOFF_SECONDS, float(factor * 2 ** min(failures - 1, MAX_BACKOFF_EXPONENT)))


def throttle_wait(devices: Iterable[TOTPDevice], now: float | None = None) -> int:
    """Seconds until at least one of ``devices`` accepts a code again (0: now)."""
    now = clock.now() if now is None else now
    waits = [(d.throttled_until or 0.0) - now for d in devices]
    if not waits:
        return 0
    wait = min(waits)
    return math.ceil(wait) if wait > 0 else 0


def verify_totp(devices: QuerySet[TOTPDevice], code: str, *, confirm: bool = False) -> Outcome:
    """Check ``code`` against ``devices`` (usually one user's confirmed devices).

    With ``confirm=True`` a matching device is also marked confirmed (enrollment).
    """
    now = clock.now()
    tolerance = conf.HARDENING_MFA_TOTP_TOLERANCE
    with transaction.atomic():
        locked = list(devices.select_for_update().order_by("pk"))
        if not locked:
            return Outcome(False, "no_device")
        available = [d for d in locked if not d.throttled_until or d.throttled_until <= now]
        if not available:
            return Outcome(False, "throttled", retry_after=max(1, throttle_wait(locked, now)))
        replayed: TOTPDevice | None = None
        for device in available:
            steps = totp.matching_steps(
                device.secret,
                code,
                now=now,
                period=device.period,
                digits=device.digits,
                tolerance=tolerance,
            )
            fresh = [step for step in steps if step > device.last_t]
            if fresh:
                step = min(fresh)
                changes: dict[str, Any] = {
                    "last_t": step,
                    "failure_count": 0,
                    "throttled_until": None,
                    "last_used_at": timezone.now(),
                }
                if confirm:
                    changes["confirmed"] = True
                # The WHERE clause makes spending a step atomic even without the row lock
                # (SQLite ignores FOR UPDATE).
                spent = TOTPDevice.objects.filter(pk=device.pk, last_t__lt=step).update(**changes)
                if spent == 1:
                    return Outcome(True, "ok", device.pk, step=step)
                replayed = device
            elif steps:
                replayed = device
        if replayed is not None:
            return Outcome(False, "replay", replayed.pk)
        for device in available:
            until = now + _backoff(device.failure_count + 1)
            TOTPDevice.objects.filter(pk=device.pk).update(
                failure_count=F("failure_count") + 1, throttled_until=until
            )
        retry = max(0, min(_backoff(d.failure_count + 1) for d in available))
        return Outcome(False, "invalid", retry_after=math.ceil(retry))
