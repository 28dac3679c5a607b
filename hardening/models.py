"""Models of the ``hardening`` app: MFA data (TOTP, passkeys, trusted devices) and
refresh-token families."""

from __future__ import annotations

from hardening.jwt.models import TokenFamily
from hardening.mfa.models import (
    MFAChallenge,
    RecoveryCode,
    TOTPDevice,
    TrustedDevice,
    WebAuthnChallenge,
    WebAuthnCredential,
)

__all__ = [
    "MFAChallenge",
    "RecoveryCode",
    "TOTPDevice",
    "TokenFamily",
    "TrustedDevice",
    "WebAuthnChallenge",
    "WebAuthnCredential",
]
