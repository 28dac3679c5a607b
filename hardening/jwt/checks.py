"""System checks of token verification (``hardening.E101``–``E115``, ``W101``–``W103``; Clerk
machine tokens ``E805``, ``E806``, ``W802`` from issue 17's block).

The own-token signing key and Clerk test keys are checked by ``hardening.deploy.secrets``
(``E040``–``E046``); these cover what verification of every issuer needs.  A setting that was
removed is ``E032`` (``hardening.deploy.settings``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings
from django.core.checks import CheckMessage
from django.utils.module_loading import import_string

from hardening.checks import problem, register, warning
from hardening.jwt import conf as jwt_conf
from hardening.jwt import keys, ownkeys, signingkey, verify, views
from hardening.jwt.conf import conf
from hardening.jwt.issuers import ASYMMETRIC_ALGORITHMS, configured

MAX_LEEWAY = 60
MAX_JWKS_TIMEOUT = 3.0
MAX_ACCESS_LIFETIME = 3600


def _valid_pem(value: str) -> bool:
    try:
        load_pem_public_key(value.encode())
    except (ValueError, TypeError):
        return False
    return True


@register
def check_issuers(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for issuer in configured():
        name = issuer.label
        if not issuer.issuer:
            messages.append(
                problem(
                    "E102",
                    f"Token issuer {name!r} has keys but no issuer (iss) configured.",
                    "Give its HARDENING_JWT_ISSUERS entry an 'issuer': iss is always checked.",
                )
            )
        if not issuer.key_url and not issuer.public_key:
            messages.append(
                problem(
                    "E105",
                    f"Token issuer {name!r} has neither a JWKS URL nor a public key.",
                    "Give its entry an 'issuer' URL (discovery), a 'jwks_url' or a 'public_key'.",
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
        discovered = issuer.key_url == issuer.discovery_url != ""
        if discovered and urlsplit(issuer.issuer).scheme != "https":
            messages.append(
                problem(
                    "E130",
                    f"Token issuer {name!r} is discovered over plain http.",
                    "Its openid-configuration names the JWKS URL: use an https issuer.",
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
                    "Paste the PEM from the provider's dashboard into 'public_key'.",
                )
            )
        if issuer.issuer and issuer.issuer == jwt_conf.ISSUER:
            messages.append(
                problem(
                    "E110",
                    f"Token issuer {name!r} uses the own tokens' issuer name.",
                    f"{jwt_conf.ISSUER!r} is the iss of this project's own tokens.",
                )
            )
        if issuer.kind == "oidc" and not issuer.audience:
            messages.append(
                warning(
                    "W102",
                    f"OIDC issuer {name!r} has no audience: tokens for any client pass.",
                    "Give its HARDENING_JWT_ISSUERS entry this API's 'audience' (client id).",
                )
            )
        if issuer.kind == "clerk" and not issuer.authorized_parties:
            messages.append(
                warning(
                    "W103",
                    "Clerk has no authorized parties: any origin's session token passes.",
                    "Give its entry 'authorized_parties': your front-end origins.",
                )
            )
    return messages


@register
def check_jwt_settings(**kwargs: Any) -> list[CheckMessage]:
    messages = _unusable_values()
    if not 0 <= jwt_conf.LEEWAY <= MAX_LEEWAY:
        messages.append(
            problem(
                "E104",
                f"The JWT leeway is {jwt_conf.LEEWAY} s (allowed 0-{MAX_LEEWAY}).",
                "Keep clocks in sync with NTP; hardening.jwt.conf.LEEWAY = 5 is enough.",
            )
        )
    if not 0 < keys.TIMEOUT <= MAX_JWKS_TIMEOUT:
        messages.append(
            problem(
                "E107",
                f"The JWKS fetch timeout is {keys.TIMEOUT} s (allowed above 0, at most 3).",
                "A slow JWKS endpoint must not hold request workers; use 2 s.",
            )
        )
    for path in views.LOGIN_CHALLENGES:
        try:
            import_string(path)
        except ImportError:
            messages.append(
                problem(
                    "E111",
                    f"Login challenge {path!r} cannot be imported.",
                    "POST /api/auth/token would fail with 500 (views.LOGIN_CHALLENGES).",
                )
            )
    if verify.MEMO_SECONDS < 0 or verify.MEMO_SIZE < 0:
        messages.append(
            problem(
                "E112",
                "The verified-token memo's seconds or size is below 0.",
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


def _unusable_values() -> list[CheckMessage]:
    """A configured value that does not parse (the default is used meanwhile)."""
    out: list[CheckMessage] = []
    for name, why in conf.problems():
        if name == "HARDENING_JWT_USER_MODE":
            value = getattr(settings, name)
            out.append(
                problem(
                    "E109",
                    f"HARDENING_JWT_USER_MODE {value!r} is unknown.",
                    "Use 'stateless' or 'create'.",
                )
            )
            continue
        out.append(
            problem(
                "E115",
                f"{name} has an unusable value: {why}"[:200],
                "Fix the value (docs/settings.md); meanwhile its default applies.",
            )
        )
    return out


@register
def check_clerk_machine_tokens(**kwargs: Any) -> list[CheckMessage]:
    """``E805`` / ``E806`` / ``W802``: Clerk machine tokens (docs/jwt.md, ids of issue 17)."""
    messages: list[CheckMessage] = []
    accepting = [i for i in configured() if i.kind == "clerk" and i.machine_tokens]
    for issuer in accepting:
        if not issuer.secret_key:
            messages.append(
                problem(
                    "E805",
                    f"Clerk issuer {issuer.label!r} accepts machine tokens but has no secret_key.",
                    "Opaque ak_/oat_/m2m_ tokens are verified by Clerk's Backend API with it; "
                    "every one is refused meanwhile.",
                )
            )
        if urlsplit(issuer.api_url).scheme != "https":
            messages.append(
                problem(
                    "E806",
                    f"The Backend API URL of Clerk issuer {issuer.label!r} is not https.",
                    "The secret key and the tokens would cross the network in clear.",
                )
            )
    if len(accepting) > 1:
        messages.append(
            warning(
                "W802",
                "Several Clerk issuers accept machine tokens; only the first verifies opaque ones.",
                "An opaque token does not name its instance: set machine_tokens on one issuer.",
            )
        )
    return messages


@register
def check_own_keys(**kwargs: Any) -> list[CheckMessage]:
    """The list form of ``HARDENING_JWT_SIGNING_KEY`` (rotation, :mod:`~hardening.jwt.ownkeys`)."""
    if not conf.HARDENING_JWT_OWN_TOKENS or not ownkeys.rotating():
        return []
    try:
        keys = signingkey.parse_keys(settings.HARDENING_JWT_SIGNING_KEY)
    except (TypeError, ValueError) as exc:
        return [
            problem(
                "E131",
                f"HARDENING_JWT_SIGNING_KEY is unusable: {exc}"[:200],
                "A list of {'kid', 'key', 'active_from'} dicts (docs/jwt.md, 'Our own JWKS').",
            )
        ]
    messages: list[CheckMessage] = []
    if keys and signingkey.current(keys) is None:
        messages.append(
            problem(
                "E132",
                "No key of HARDENING_JWT_SIGNING_KEY is active yet: nothing signs tokens.",
                "Give one key an 'active_from' in the past (or none: active since ever).",
            )
        )
    algorithm = conf.HARDENING_JWT_ALGORITHM
    unreadable = [k.kid or "?" for k in keys if not algorithm.startswith("HS") and not k.public]
    if unreadable:
        messages.append(
            problem(
                "E133",
                f"Own signing keys {', '.join(unreadable)} are not PEM private keys."[:200],
                f"{algorithm} keys rotate as PEM private keys; the public half is published.",
            )
        )
    gone = sorted(ownkeys.retired(keys))
    if gone:
        messages.append(
            warning(
                "W131",
                f"Own signing keys {', '.join(gone)} are retired but still listed."[:200],
                "No valid token was signed with them: remove them (rotate_jwt_keys does).",
            )
        )
    return messages
