"""Settings of MFA and of the per-account lockout (``hardening.mfa``).

The knobs almost nobody needs are module constants where they are used: the TOTP format
(:data:`hardening.mfa.devices.TOTP_DIGITS`, ``TOTP_PERIOD``), the per-device back-off
(``devices.THROTTLE_FACTOR``), the per-user and per-IP failure limits
(:data:`hardening.mfa.throttle.USER_MAX_FAILURES`, ``IP_MAX_FAILURES``, ``FAILURE_WINDOW``),
the login step's token (:data:`hardening.mfa.login.TOKEN_TTL`, ``TOKEN_MAX_ATTEMPTS``) and
the number of recovery codes (:data:`hardening.mfa.recovery.RECOVERY_CODES`), the passkey
user verification and challenge lifetime (:data:`hardening.mfa.passkeys.USER_VERIFICATION`,
:data:`hardening.mfa.challenges.CHALLENGE_TTL`) and whether staff may trust a browser
(:data:`hardening.mfa.trusted.STAFF_MAY_TRUST`).  The counters
live in the shared cache, ``HARDENING_CACHE`` (:mod:`hardening.conf.core`).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from hardening.conf import parse
from hardening.conf.base import Reader, setting
from hardening.ratelimit.policy import Rate, parse_rate

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}")

#: Who must pass MFA.
POLICIES = ("off", "staff", "all")

DEFAULT_EXEMPT_PATHS = [
    "/account/mfa/",
    "/account/login/",
    "/account/logout/",
    "/account/hardening.css",
    "/api/mfa/",
    "/api/auth/",
    "/admin/logout/",
    "/static/",
]


def _tolerance(value: Any) -> int:
    if isinstance(value, bool) or value not in (0, 1):
        raise ValueError(f"expected 0 or 1, got {value!r}")
    return int(value)


def _exempt_paths(value: Any) -> list[str]:
    entries = parse.strings(value)
    for entry in entries:
        if not entry.startswith("/"):
            raise ValueError(f"{entry!r} is not a path prefix (starts with /)")
    return entries


def _rp_id(value: Any) -> str | None:
    """A host name (``example.com``), ``""`` (passkeys off) or None (unset)."""
    if value is None:
        return None
    name = parse.string(value).strip().lower().rstrip(".")
    if name and (not _HOST.fullmatch(name) or _is_ip(name)):
        raise ValueError(f"{value!r} is not a domain name (no scheme, port, path or address)")
    return name


def _origins(value: Any) -> list[str]:
    entries = [entry.rstrip("/") for entry in parse.strings(value)]
    for entry in entries:
        scheme, sep, host = entry.partition("://")
        if not sep or scheme not in ("https", "http") or not host or "/" in host:
            raise ValueError(f"{entry!r} is not an origin like 'https://example.com'")
    return entries


def _trusted_days(value: Any) -> int:
    days = parse.non_negative_int(value)
    if days > 365:
        raise ValueError(f"at most 365 days, got {days}")
    return days


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def _lockout(value: Any) -> Rate | None:
    if value is None:
        return None
    try:
        rate = parse_rate(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a rate like '5/5m' (or None)") from None
    if rate.limit < 1:
        raise ValueError(f"{value!r}: at least 1 failure must be allowed before the lock")
    return rate


class MFASettings(Reader):
    removed = {
        "HARDENING_MFA_ENABLED": (
            "HARDENING_MFA_REQUIRED = 'off' (the default) and no MFA URLs in ROOT_URLCONF "
            "(the login step is asked only of users who enrolled a device)"
        ),
        "HARDENING_MFA_CACHE": "HARDENING_CACHE",
        "HARDENING_LOCKOUT_ENABLED": "HARDENING_LOCKOUT = None (off) or a rate such as '5/5m'",
        "HARDENING_LOCKOUT_MAX_FAILURES": "HARDENING_LOCKOUT = '<failures>/<window>'",
        "HARDENING_LOCKOUT_WINDOW": "HARDENING_LOCKOUT = '<failures>/<window>'",
        "HARDENING_LOCKOUT_DURATION": (
            "HARDENING_LOCKOUT: an account stays locked for the rate's window, at most 15 min"
        ),
        "HARDENING_MFA_FAILURE_WINDOW": "the constant hardening.mfa.throttle.FAILURE_WINDOW",
        "HARDENING_MFA_USER_MAX_FAILURES": "the constant hardening.mfa.throttle.USER_MAX_FAILURES",
        "HARDENING_MFA_IP_MAX_FAILURES": "the constant hardening.mfa.throttle.IP_MAX_FAILURES",
        "HARDENING_MFA_THROTTLE_FACTOR": "the constant hardening.mfa.devices.THROTTLE_FACTOR",
        "HARDENING_MFA_TOKEN_MAX_ATTEMPTS": "the constant hardening.mfa.login.TOKEN_MAX_ATTEMPTS",
        "HARDENING_MFA_TOKEN_TTL": "the constant hardening.mfa.login.TOKEN_TTL",
        "HARDENING_MFA_TOTP_DIGITS": "the constant hardening.mfa.devices.TOTP_DIGITS",
        "HARDENING_MFA_TOTP_PERIOD": "the constant hardening.mfa.devices.TOTP_PERIOD",
        "HARDENING_MFA_RECOVERY_CODES": "the constant hardening.mfa.recovery.RECOVERY_CODES",
    }

    HARDENING_MFA_REQUIRED = setting(
        "off",
        parse.choice(*POLICIES),
        "Who must pass MFA: ``off``, ``staff`` (staff and superusers) or ``all``.",
    )
    HARDENING_MFA_ISSUER = setting(
        "django-hardening",
        parse.string,
        "Name shown in authenticator apps (the ``issuer`` of the otpauth URI).",
    )
    HARDENING_MFA_EXEMPT_PATHS = setting(
        lambda reader: list(DEFAULT_EXEMPT_PATHS),
        _exempt_paths,
        "Path prefixes the MFA policy never blocks (enrollment, login, logout, static files).",
    )
    HARDENING_MFA_TOTP_TOLERANCE = setting(
        0,
        _tolerance,
        "Time steps accepted either side of now: 0 (ASVS 5.0 6.5.5) or 1 for drifting clocks.",
    )
    HARDENING_LOCKOUT = setting(
        Rate(5, 300),
        _lockout,
        "Failed logins per account and window before the account is locked, as a rate "
        "(``'5/5m'``); the lock lasts the window, at most 15 minutes.  ``None``: no lock.",
    )

    HARDENING_WEBAUTHN_RP_ID = setting(
        None,
        _rp_id,
        "The WebAuthn relying-party id: this site's domain (``example.com``), ``''`` to turn "
        "passkeys off; unset is an Error in production (``hardening.E230``).",
    )
    HARDENING_WEBAUTHN_ORIGINS = setting(
        lambda reader: [],
        _origins,
        "Origins passkey ceremonies may come from (``https://example.com``); empty: "
        "``https://<RP id>`` (in development also the page's own origin).",
    )
    HARDENING_MFA_TRUSTED_DEVICE_DAYS = setting(
        0,
        _trusted_days,
        "Days a browser the user chose to trust skips the MFA step (0: the option is off).",
    )


conf = MFASettings()
