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
from django.http.request import validate_host
from django.urls import NoReverseMatch, reverse

from hardening.checks import problem, register, warning
from hardening.conf import conf as core
from hardening.conf.core import middleware as installed_middleware
from hardening.conf.core import per_process
from hardening.mfa import devices, login, passkeys, throttle, trusted
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
    if trusted.STAFF_MAY_TRUST and conf.HARDENING_MFA_TRUSTED_DEVICE_DAYS and core.is_production:
        out.append(
            warning(
                "W231",
                "Staff may skip the MFA step on a trusted browser.",
                "Keep hardening.mfa.trusted.STAFF_MAY_TRUST off: admin sessions prove a factor.",
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


def _host_matches(host: str, rp_id: str) -> bool:
    """``host`` (an ALLOWED_HOSTS entry or an origin's host) is ``rp_id`` or under it."""
    host = host.lower().rstrip(".")
    if host.startswith("."):  # a wildcard entry: its domain and every subdomain
        host = host[1:]
        return host == rp_id or host.endswith(f".{rp_id}") or rp_id.endswith(f".{host}")
    return host == rp_id or host.endswith(f".{rp_id}")


@register
def check_webauthn(**kwargs: Any) -> list[CheckMessage]:
    """The relying party of the passkey ceremonies (``hardening.mfa.passkeys``)."""
    rp_id = conf.HARDENING_WEBAUTHN_RP_ID
    if not passkeys.installed() or rp_id == "":
        return []
    try:
        reverse("hardening:mfa-webauthn")
    except NoReverseMatch:
        return []  # no passkey endpoints: nothing to configure
    if rp_id is None:
        if not core.is_production:
            return []
        return [
            problem(
                "E230",
                "HARDENING_WEBAUTHN_RP_ID is not set: passkeys cannot work in production.",
                "Set it to your site's domain (example.com), or to '' to turn passkeys off.",
            )
        ]
    out: list[CheckMessage] = []
    hosts = [str(h) for h in getattr(settings, "ALLOWED_HOSTS", []) or []]
    if "*" not in hosts and not any(_host_matches(h.split(":")[0], rp_id) for h in hosts):
        out.append(
            problem(
                "E231",
                f"HARDENING_WEBAUTHN_RP_ID {rp_id!r} matches no host of ALLOWED_HOSTS.",
                "The RP id is the site's domain or a parent domain of it (WebAuthn 5.1).",
            )
        )
    for origin in conf.HARDENING_WEBAUTHN_ORIGINS:
        scheme, _, rest = origin.partition("://")
        host = rest.rsplit(":", 1)[0] if not rest.endswith("]") else rest
        if not _host_matches(host, rp_id):
            out.append(
                problem(
                    "E232",
                    f"The passkey origin {origin!r} is not under the RP id {rp_id!r}.",
                    "Browsers refuse such ceremonies; list origins of the RP id's domain.",
                )
            )
        elif scheme != "https" and core.is_production:
            out.append(
                problem(
                    "E233",
                    f"The passkey origin {origin!r} is not HTTPS.",
                    "WebAuthn needs a secure context; list https:// origins.",
                )
            )
        elif "*" not in hosts and not validate_host(host, hosts):
            out.append(
                warning(
                    "W230",
                    f"The passkey origin {origin!r} is not in ALLOWED_HOSTS.",
                    "This site never serves that origin's pages; remove it or add the host.",
                )
            )
    return out
