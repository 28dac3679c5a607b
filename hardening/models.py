"""Models of the ``hardening`` app: MFA data (TOTP, passkeys, trusted devices),
refresh-token families and API keys."""

from __future__ import annotations

from hardening.apikeys.models import APIKey
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
    "APIKey",
    "MFAChallenge",
    "RecoveryCode",
    "TOTPDevice",
    "TokenFamily",
    "TrustedDevice",
    "WebAuthnChallenge",
    "WebAuthnCredential",
]
