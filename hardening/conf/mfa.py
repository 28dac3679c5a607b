"""Settings of MFA and field encryption (``hardening.mfa``, ``hardening.crypto``)."""

from __future__ import annotations

from hardening.conf.base import BaseSettings, _get
from hardening.conf.core import CoreSettings

__all__ = ["MFASettings"]


class MFASettings(BaseSettings):
    # -- MFA and field encryption ------------------------------------------------------

    @property
    def HARDENING_MFA_ENABLED(self) -> bool:
        return bool(_get("HARDENING_MFA_ENABLED", True))

    @property
    def HARDENING_FIELD_ENCRYPTION_KEYS(self) -> list[str]:
        """Fernet keys; the first encrypts, all decrypt."""
        value = _get("HARDENING_FIELD_ENCRYPTION_KEYS", [])
        if isinstance(value, str):
            value = [value]
        return [str(key) for key in value if key]

    @property
    def HARDENING_MFA_ISSUER(self) -> str:
        """Name shown in authenticator apps (the ``issuer`` of the otpauth URI)."""
        return str(_get("HARDENING_MFA_ISSUER", "django-hardening"))

    @property
    def HARDENING_MFA_TOTP_DIGITS(self) -> int:
        return int(_get("HARDENING_MFA_TOTP_DIGITS", 6))

    @property
    def HARDENING_MFA_TOTP_PERIOD(self) -> int:
        return int(_get("HARDENING_MFA_TOTP_PERIOD", 30))

    @property
    def HARDENING_MFA_TOTP_TOLERANCE(self) -> int:
        """Time steps accepted either side of now: 0 (ASVS 5.0 6.5.5) or 1 for clock drift."""
        return int(_get("HARDENING_MFA_TOTP_TOLERANCE", 0))

    @property
    def HARDENING_MFA_THROTTLE_FACTOR(self) -> float:
        """Per-device back-off: ``factor * 2**(n-1)`` seconds after n failures (0 disables)."""
        return float(_get("HARDENING_MFA_THROTTLE_FACTOR", 1))

    @property
    def HARDENING_MFA_USER_MAX_FAILURES(self) -> int:
        """Failed MFA attempts per user per window before 429 (ASVS 2.2.1: <= 100/hour)."""
        return int(_get("HARDENING_MFA_USER_MAX_FAILURES", 10))

    @property
    def HARDENING_MFA_IP_MAX_FAILURES(self) -> int:
        return int(_get("HARDENING_MFA_IP_MAX_FAILURES", 50))

    @property
    def HARDENING_MFA_FAILURE_WINDOW(self) -> int:
        """Seconds over which the per-user and per-IP failures are counted."""
        return int(_get("HARDENING_MFA_FAILURE_WINDOW", 900))

    @property
    def HARDENING_MFA_CACHE(self) -> str:
        """Cache alias for the per-user / per-IP failure counters (shared between processes)."""
        return str(_get("HARDENING_MFA_CACHE", CoreSettings().HARDENING_CACHE))

    @property
    def HARDENING_MFA_TOKEN_TTL(self) -> int:
        """Lifetime in seconds of the ``mfa_token`` of the login step (at most 300)."""
        return int(_get("HARDENING_MFA_TOKEN_TTL", 300))

    @property
    def HARDENING_MFA_TOKEN_MAX_ATTEMPTS(self) -> int:
        return int(_get("HARDENING_MFA_TOKEN_MAX_ATTEMPTS", 5))

    @property
    def HARDENING_MFA_RECOVERY_CODES(self) -> int:
        return int(_get("HARDENING_MFA_RECOVERY_CODES", 10))

    @property
    def HARDENING_MFA_REQUIRED(self) -> str:
        """Who must use MFA: ``"off"``, ``"staff"`` (staff and superusers) or ``"all"``."""
        return str(_get("HARDENING_MFA_REQUIRED", "off"))

    @property
    def HARDENING_MFA_EXEMPT_PATHS(self) -> list[str]:
        """Path prefixes the MFA policy middleware never blocks (enrollment, login, logout)."""
        default = [
            "/account/mfa/",
            "/account/login/",
            "/account/logout/",
            "/account/hardening.css",
            "/api/mfa/",
            "/api/auth/",
            "/admin/logout/",
            "/static/",
        ]
        return list(_get("HARDENING_MFA_EXEMPT_PATHS", default))

    # -- per-account login throttling (hardening.lockout) --------------------------------

    @property
    def HARDENING_LOCKOUT_ENABLED(self) -> bool:
        """Lock an account's logins after repeated failures, whatever the source address."""
        return bool(_get("HARDENING_LOCKOUT_ENABLED", True))

    @property
    def HARDENING_LOCKOUT_MAX_FAILURES(self) -> int:
        """Failed logins (password or MFA code) per account per window before the lock."""
        return max(1, int(_get("HARDENING_LOCKOUT_MAX_FAILURES", 5)))

    @property
    def HARDENING_LOCKOUT_WINDOW(self) -> int:
        """Seconds over which an account's failures are counted."""
        return max(1, int(_get("HARDENING_LOCKOUT_WINDOW", 300)))

    @property
    def HARDENING_LOCKOUT_DURATION(self) -> int:
        """Seconds an account stays locked (capped at 900: no lock-out for days)."""
        return max(1, min(900, int(_get("HARDENING_LOCKOUT_DURATION", 300))))
