"""System checks of MFA and the per-account lockout (``E2xx`` / ``W2xx``; the lockout's
wiring keeps its ids ``E113`` / ``E114``).

Missing or malformed ``HARDENING_FIELD_ENCRYPTION_KEYS`` are ``E047`` / ``E048``
(``hardening.deploy.secrets``); these cover the MFA settings themselves.  A setting that was
removed is ``E032`` (``hardening.deploy.settings``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage
from django.urls import NoReverseMatch, reverse

from hardening.checks import problem, register, warning
from hardening.conf import conf as core
from hardening.conf.core import middleware as installed_middleware
from hardening.conf.core import per_process
from hardening.mfa import devices, login, throttle
from hardening.mfa.conf import conf
from hardening.mfa.lockout import BACKEND, MIDDLEWARE

POLICY_MIDDLEWARE = "hardening.middleware.MFAMiddleware"


@register
def check_mfa_settings(**kwargs: Any) -> list[CheckMessage]:
    out = _unusable_values()
    if conf.HARDENING_MFA_TOTP_TOLERANCE == 1 and core.is_production:
        out.append(
            warning(
                "W201",
                "HARDENING_MFA_TOTP_TOLERANCE = 1 keeps codes valid for 90 s.",
                "ASVS 5.0 6.5.5 asks for 30 s (tolerance 0); use 1 only for drifting clocks.",
            )
        )
    if devices.TOTP_DIGITS not in (6, 7, 8) or not (15 <= devices.TOTP_PERIOD <= 60):
        out.append(
            problem(
                "E202",
                "TOTP_DIGITS / TOTP_PERIOD are outside 6-8 digits, 15-60 s.",
                "Authenticator apps expect 6 digits and 30 seconds.",
            )
        )
    if devices.THROTTLE_FACTOR <= 0 or throttle.USER_MAX_FAILURES < 1:
        out.append(
            problem(
                "E204",
                "MFA brute-force protection is disabled.",
                "Keep the device back-off factor > 0 and the per-user limit >= 1.",
            )
        )
    if throttle.USER_MAX_FAILURES * 3600 > 100 * throttle.FAILURE_WINDOW:
        out.append(
            problem(
                "E205",
                "The per-user MFA limit allows more than 100 failures per hour.",
                "ASVS 2.2.1: lower the per-user limit or lengthen its window.",
            )
        )
    if not (1 <= login.TOKEN_TTL <= 300) or not (1 <= login.TOKEN_MAX_ATTEMPTS <= 10):
        out.append(
            problem(
                "E206",
                "The mfa_token must live 1-300 s and allow 1-10 attempts.",
                "The mfa_token of the login step is short-lived and allows few attempts.",
            )
        )
    out.extend(_check_cache())
    return out


def _unusable_values() -> list[CheckMessage]:
    """A configured value that does not parse (the default is used meanwhile)."""
    out: list[CheckMessage] = []
    for name, why in conf.problems():
        value = getattr(settings, name)
        if name == "HARDENING_MFA_TOTP_TOLERANCE":
            out.append(
                problem(
                    "E201",
                    f"HARDENING_MFA_TOTP_TOLERANCE is {value!r}; it must be 0 or 1.",
                    "Each extra step multiplies the guessing odds and a code's lifetime.",
                )
            )
        elif name == "HARDENING_MFA_REQUIRED":
            out.append(
                problem(
                    "E203",
                    f"HARDENING_MFA_REQUIRED is {value!r}; MFA is required of nobody.",
                    "Use 'off', 'staff' or 'all'.",
                )
            )
        else:
            out.append(
                problem(
                    "E211",
                    f"{name} is unusable ({why}); its default is used.",
                    "See docs/settings.md for the values it takes.",
                )
            )
    return out


def _check_cache() -> list[CheckMessage]:
    alias = core.HARDENING_CACHE
    caches = getattr(settings, "CACHES", {}) or {}
    if alias not in caches:
        return [
            problem(
                "E207",
                f"HARDENING_CACHE names no cache ({alias!r}).",
                "Point it at a key of CACHES; it holds the MFA limits and the account locks.",
            )
        ]
    if core.is_production and per_process(alias):
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
    try:
        reverse("hardening:mfa-page")
        reverse("hardening:mfa-totp")
    except NoReverseMatch:
        return [
            problem(
                "E209",
                "MFA is required but its enrollment URLs are not installed.",
                'Add path("", include("hardening.urls")) to your ROOT_URLCONF.',
            )
        ]
    middleware = installed_middleware()
    if POLICY_MIDDLEWARE not in middleware:
        return [
            problem(
                "E210",
                "MFA is required but MFAMiddleware is not installed.",
                f"Add {POLICY_MIDDLEWARE} after AuthenticationMiddleware.",
            )
        ]
    return []


@register
def check_lockout_wiring(**kwargs: Any) -> list[CheckMessage]:
    if conf.HARDENING_LOCKOUT is None:
        return []
    errors: list[CheckMessage] = []
    backends = list(getattr(settings, "AUTHENTICATION_BACKENDS", []))
    if not backends or backends[0] != BACKEND:
        errors.append(
            problem(
                "E113",
                f"{BACKEND} is not the first entry of AUTHENTICATION_BACKENDS: session "
                "logins (the admin) are not throttled per account.",
                f"Put {BACKEND!r} first in AUTHENTICATION_BACKENDS (docs/mfa.md).",
            )
        )
    if MIDDLEWARE not in installed_middleware():
        errors.append(
            problem(
                "E114",
                f"{MIDDLEWARE} is not in MIDDLEWARE: a locked session login answers 200 "
                "with a form error instead of 429 with Retry-After.",
                f"Add {MIDDLEWARE!r} after AuthenticationMiddleware (docs/mfa.md).",
            )
        )
    return errors
