"""Models of the ``hardening`` app: MFA data and revoked refresh-token families."""

from __future__ import annotations

from hardening.jwt.models import RevokedTokenFamily
from hardening.mfa.models import MFAChallenge, RecoveryCode, TOTPDevice

__all__ = ["MFAChallenge", "RecoveryCode", "RevokedTokenFamily", "TOTPDevice"]
