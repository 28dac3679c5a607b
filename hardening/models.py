"""Models of the ``hardening`` app: MFA data and refresh-token families."""

from __future__ import annotations

from hardening.jwt.models import TokenFamily
from hardening.mfa.models import MFAChallenge, RecoveryCode, TOTPDevice

__all__ = ["MFAChallenge", "RecoveryCode", "TOTPDevice", "TokenFamily"]
