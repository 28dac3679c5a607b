"""System checks of the MFA capability (``E2xx`` / ``W2xx``).

Missing or malformed ``HARDENING_FIELD_ENCRYPTION_KEYS`` are ``E047`` / ``E048``
(``hardening.deploy.secrets``); these cover the MFA settings themselves.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage
from django.urls import NoReverseMatch, reverse

from hardening.checks import problem, register, warning
from hardening.conf import conf
from hardening.conf.core import per_process

__all__ = ["check_mfa_settings", "check_mfa_wiring"]

POLICIES = ("off", "staff", "all")


@register
def check_mfa_settings(**kwargs: Any) -> list[CheckMessage]:
    if not conf.HARDENING_MFA_ENABLED:
        return []
    out: list[CheckMessage] = []
    tolerance = conf.HARDENING_MFA_TOTP_TOLERANCE
    if not 0 <= tolerance <= 1:
        out.append(
            problem(
                "E201",
                f"HARDENING_MFA_TOTP_TOLERANCE is {tolerance}; it must be 0 or 1.",
                "Each extra step multiplies the guessing odds and a code's lifetime.",
            )
        )
    elif tolerance == 1 and conf.is_production:
        out.append(
            warning(
                "W201",
                "HARDENING_MFA_TOTP_TOLERANCE = 1 keeps codes valid for 90 s.",
                "ASVS 5.0 6.5.5 asks for 30 s (tolerance 0); use 1 only for drifting clocks.",
            )
        )
    if conf.HARDENING_MFA_TOTP_DIGITS not in (6, 7, 8) or not (
        15 <= conf.HARDENING_MFA_TOTP_PERIOD <= 60
    ):
        out.append(
            problem(
                "E202",
                "HARDENING_MFA_TOTP_DIGITS / _PERIOD are outside 6-8 digits, 15-60 s.",
                "Authenticator apps expect 6 digits and 30 seconds.",
            )
        )
    if conf.HARDENING_MFA_REQUIRED not in POLICIES:
        out.append(
            problem(
                "E203",
                f"HARDENING_MFA_REQUIRED is {conf.HARDENING_MFA_REQUIRED!r}.",
                "Use 'off', 'staff' or 'all'.",
            )
        )
    if conf.HARDENING_MFA_THROTTLE_FACTOR <= 0 or conf.HARDENING_MFA_USER_MAX_FAILURES < 1:
        out.append(
            problem(
                "E204",
                "MFA brute-force protection is disabled.",
                "Keep HARDENING_MFA_THROTTLE_FACTOR > 0 and HARDENING_MFA_USER_MAX_FAILURES >= 1.",
            )
        )
    if conf.HARDENING_MFA_USER_MAX_FAILURES * 3600 > 100 * conf.HARDENING_MFA_FAILURE_WINDOW:
        out.append(
            problem(
                "E205",
                "The per-user MFA limit allows more than 100 failures per hour.",
                "ASVS 2.2.1: lower HARDENING_MFA_USER_MAX_FAILURES or lengthen the window.",
            )
        )
    if not (1 <= conf.HARDENING_MFA_TOKEN_TTL <= 300) or not (
        1 <= conf.HARDENING_MFA_TOKEN_MAX_ATTEMPTS <= 10
    ):
        out.append(
            problem(
                "E206",
                "HARDENING_MFA_TOKEN_TTL must be 1-300 s and _MAX_ATTEMPTS 1-10.",
                "The mfa_token of the login step is short-lived and allows few attempts.",
            )
        )
    out.extend(_check_cache())
    return out


def _check_cache() -> list[CheckMessage]:
    alias = conf.HARDENING_MFA_CACHE
    caches = getattr(settings, "CACHES", {}) or {}
    if alias not in caches:
        return [
            problem(
                "E207",
                f"HARDENING_MFA_CACHE names no cache ({alias!r}).",
                "Point it at a key of CACHES; it holds the per-user and per-IP MFA limits.",
            )
        ]
    if conf.is_production and per_process(alias):
        return [
            warning(
                "W202",
                "The MFA failure counters live in a per-process cache.",
                "Each worker counts separately; use Redis. The device back-off still holds.",
            )
        ]
    return []


@register
def check_mfa_wiring(**kwargs: Any) -> list[CheckMessage]:
    """MFA is required by the policy but users have no way to enroll."""
    if conf.HARDENING_MFA_REQUIRED not in ("staff", "all"):
        return []
    if not conf.HARDENING_MFA_ENABLED:
        return [
            problem(
                "E208",
                "HARDENING_MFA_REQUIRED is set but HARDENING_MFA_ENABLED is False.",
                "Enable MFA or set HARDENING_MFA_REQUIRED = 'off'.",
            )
        ]
    try:
        reverse("hardening-mfa-page")
        reverse("hardening-mfa-totp")
    except NoReverseMatch:
        return [
            problem(
                "E209",
                "MFA is required but its enrollment URLs are not installed.",
                'Add path("", include("hardening.mfa.urls")) to your ROOT_URLCONF.',
            )
        ]
    middleware = list(getattr(settings, "MIDDLEWARE", []) or [])
    if "hardening.mfa.middleware.MFAPolicyMiddleware" not in middleware:
        return [
            problem(
                "E210",
                "MFA is required but MFAPolicyMiddleware is not installed.",
                "Add hardening.mfa.middleware.MFAPolicyMiddleware after AuthenticationMiddleware.",
            )
        ]
    return []
