"""Reset a user's MFA (support and operators): devices, passkeys, trusted browsers,
recovery codes, pending logins."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest

from hardening.mfa.models import (
    MFAChallenge,
    RecoveryCode,
    TOTPDevice,
    TrustedDevice,
    WebAuthnCredential,
)
from hardening.observability.audit import audit


def reset_mfa(
    user_id: Any, *, actor: Any = None, request: HttpRequest | None = None, via: str = "api"
) -> int:
    """Delete every MFA record of ``user_id``; returns the number of TOTP devices and
    passkeys removed."""
    with transaction.atomic():
        removed, _ = TOTPDevice.objects.filter(user_id=user_id).delete()
        passkeys, _ = WebAuthnCredential.objects.filter(user_id=user_id).delete()
        TrustedDevice.objects.filter(user_id=user_id).delete()
        RecoveryCode.objects.filter(user_id=user_id).delete()
        MFAChallenge.objects.filter(user_id=user_id).delete()
    actor_id = str(getattr(actor, "pk", "")) if actor is not None else None
    audit(
        "mfa.reset",
        request=request,
        target_user_id=str(user_id),
        actor_id=actor_id,
        devices=removed,
        via=via,
    )
    return int(removed) + int(passkeys)
