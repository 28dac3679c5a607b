"""Models of the ``hardening`` app (only the MFA capability stores data)."""

from __future__ import annotations

from hardening.mfa.models import MFAChallenge, RecoveryCode, TOTPDevice

__all__ = ["MFAChallenge", "RecoveryCode", "TOTPDevice"]
