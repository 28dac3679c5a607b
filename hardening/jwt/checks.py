"""System checks of token verification (``hardening.E101``–``E112``, ``W101``–``W103``).

The own-token signing key and Clerk test keys are checked by ``hardening.deploy.secrets``
(``E040``–``E046``); these cover what verification of every issuer needs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.apps import apps
from django.core.checks import CheckMessage
from django.utils.module_loading import import_string

from hardening.checks import problem, register, warning
from hardening.conf import conf
from hardening.jwt.config import ASYMMETRIC_ALGORITHMS, external_issuers

__all__ = ["check_issuers", "check_jwt_settings"]

MAX_LEEWAY = 60
MAX_JWKS_TIMEOUT = 3.0
MAX_ACCESS_LIFETIME = 3600
USER_MODES = ("stateless", "create")


def _valid_pem(value: str) -> bool:
    try:
        load_pem_public_key(value.encode())
    except (ValueError, TypeError):
        return False
    return True


@register
def check_issuers(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for issuer in external_issuers():
        name = issuer.label
        if not issuer.issuer:
            messages.append(
                problem(
                    "E102",
                    f"Token issuer {name!r} has keys but no issuer (iss) configured.",
                    "Set CLERK_ISSUER / OIDC_ISSUER (or 'issuer'): iss is always checked.",
                )
            )
        if not issuer.jwks_url and not issuer.public_key:
            messages.append(
                problem(
                    "E105",
                    f"Token issuer {name!r} has neither a JWKS URL nor a public key.",
                    "Set its JWKS URL (OIDC_JWKS_URL, CLERK_JWKS_URL) or PEM (CLERK_JWT_KEY).",
                )
            )
        if issuer.jwks_url and not issuer.public_key:
            scheme = urlsplit(issuer.jwks_url).scheme
            if scheme != "https":
                messages.append(
                    problem(
                        "E101",
                        f"The JWKS URL of token issuer {name!r} does not use https.",
                        "Keys fetched over plain http can be replaced in transit.",
                    )
                )
        bad = [a for a in issuer.algorithms if a not in ASYMMETRIC_ALGORITHMS]
        if not issuer.algorithms or bad:
            messages.append(
                problem(
                    "E103",
                    f"Token issuer {name!r} has no usable algorithm allow-list.",
                    "List asymmetric algorithms only, e.g. ['RS256']; never none or HS*.",
                )
            )
        if issuer.public_key and not _valid_pem(issuer.public_key):
            messages.append(
                problem(
                    "E106",
                    f"The public key of token issuer {name!r} is not a PEM public key.",
                    "Paste the PEM from the provider's dashboard (CLERK_JWT_KEY).",
                )
            )
        if issuer.issuer and issuer.issuer == conf.HARDENING_JWT_ISSUER:
            messages.append(
                problem(
                    "E110",
                    f"Token issuer {name!r} uses the own tokens' issuer name.",
                    "Give HARDENING_JWT_ISSUER a value no other issuer uses.",
                )
            )
        if issuer.kind == "oidc" and not issuer.audience:
            messages.append(
                warning(
                    "W102",
                    f"OIDC issuer {name!r} has no audience: tokens for any client pass.",
                    "Set OIDC_AUDIENCE to this API's client id / audience.",
                )
            )
        if issuer.kind == "clerk" and not issuer.authorized_parties:
            messages.append(
                warning(
                    "W103",
                    "Clerk has no authorized parties: any origin's session token passes.",
                    "Set CLERK_AUTHORIZED_PARTIES to your front-end origins.",
                )
            )
    return messages


@register
def check_jwt_settings(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    leeway = conf.HARDENING_JWT_LEEWAY
    if leeway < 0 or leeway > MAX_LEEWAY:
        messages.append(
            problem(
                "E104",
                f"HARDENING_JWT_LEEWAY is {leeway} s (allowed 0-{MAX_LEEWAY}).",
                "Keep clocks in sync with NTP; 5 s of leeway is enough.",
            )
        )
    timeout = conf.HARDENING_JWKS_TIMEOUT
    if timeout <= 0 or timeout > MAX_JWKS_TIMEOUT:
        messages.append(
            problem(
                "E107",
                f"HARDENING_JWKS_TIMEOUT is {timeout} s (allowed above 0, at most 3).",
                "A slow JWKS endpoint must not hold request workers; use 2 s.",
            )
        )
    if conf.HARDENING_JWT_OWN_TOKENS and not apps.is_installed(
        "rest_framework_simplejwt.token_blacklist"
    ):
        messages.append(
            problem(
                "E108",
                "The simplejwt token blacklist app is not installed.",
                "Add 'rest_framework_simplejwt.token_blacklist' to INSTALLED_APPS.",
            )
        )
    if conf.HARDENING_JWT_USER_MODE not in USER_MODES:
        messages.append(
            problem(
                "E109",
                f"HARDENING_JWT_USER_MODE {conf.HARDENING_JWT_USER_MODE!r} is unknown.",
                "Use 'stateless' or 'create'.",
            )
        )
    for path in conf.HARDENING_LOGIN_CHALLENGES:
        try:
            import_string(path)
        except ImportError:
            messages.append(
                problem(
                    "E111",
                    f"Login challenge {path!r} cannot be imported.",
                    "Fix HARDENING_LOGIN_CHALLENGES: POST /api/auth/token would fail with 500.",
                )
            )
    for name in ("HARDENING_JWT_VERIFIED_CACHE_SECONDS", "HARDENING_JWT_VERIFIED_CACHE_SIZE"):
        if getattr(conf, name) is None:
            messages.append(
                problem(
                    "E112",
                    f"{name} is not a number >= 0 (the verified-token memo is off).",
                    "Use a number of seconds / entries, or 0 to turn the memo off.",
                )
            )
    if conf.HARDENING_JWT_OWN_TOKENS and (
        conf.HARDENING_JWT_ACCESS_TOKEN_LIFETIME > MAX_ACCESS_LIFETIME
    ):
        messages.append(
            warning(
                "W101",
                "Access tokens live longer than one hour.",
                "Keep HARDENING_JWT_ACCESS_TOKEN_LIFETIME short (900 s) and refresh.",
            )
        )
    return messages
