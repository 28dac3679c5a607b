"""Checks for missing and weak secrets (``E001``–``E006``, ``E040``–``E059``)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.core.exceptions import ImproperlyConfigured
from django.urls import NoReverseMatch, reverse

from hardening.checks import problem, register
from hardening.conf import conf
from hardening.deploy.keys import field_key_problems, jwt_key_problems, low_entropy
from hardening.deploy.strength import MIN_SECRET_BITS, is_published
from hardening.jwt import ownkeys
from hardening.jwt.conf import conf as jwt
from hardening.jwt.issuers import configured as issuers

MIN_SECRET_KEY_LENGTH = 50
MIN_SECRET_KEY_UNIQUE_CHARACTERS = 10
MIN_HMAC_KEY_BYTES = 32
INSECURE_PREFIX = "django-insecure-"

# Values copied from tutorials, templates and docs again and again.  Compared lowercased.
KNOWN_WEAK_SECRETS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "secret_key",
        "secret-key",
        "secretkey",
        "mysecretkey",
        "your-secret-key",
        "your_secret_key",
        "yoursecretkey",
        "your-secret-key-here",
        "your_secret_key_here",
        "replace-me",
        "replace_me",
        "insecure",
        "notsecret",
        "not-secret",
        "development",
        "django",
        "password",
        "dev",
        "test",
        "please-change-me",
        "super-secret-key",
        "supersecretkey",
        "super_secret_key",
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        # Django's own docs and test settings
        "django-insecure-change-me",
        "hardening-development-only-key-never-use-in-production-0123456789",
    }
)


def secret_weakness(value: str) -> str | None:
    """Why ``value`` is not a production-grade SECRET_KEY, or None when it is fine.

    >>> secret_weakness("short")
    'shorter than 50 characters'
    >>> secret_weakness("django-insecure-" + "k" * 60)
    "starts with 'django-insecure-'"
    """
    lowered = value.strip().lower()
    if lowered in KNOWN_WEAK_SECRETS or value in conf.HARDENING_WEAK_SECRET_KEYS:
        return "is a well-known example value"
    if is_published(value):
        return "is a well-known example value"
    if value.startswith(INSECURE_PREFIX):
        return f"starts with {INSECURE_PREFIX!r}"
    if len(value) < MIN_SECRET_KEY_LENGTH:
        return f"shorter than {MIN_SECRET_KEY_LENGTH} characters"
    if len(set(value)) < MIN_SECRET_KEY_UNIQUE_CHARACTERS:
        return f"fewer than {MIN_SECRET_KEY_UNIQUE_CHARACTERS} unique characters"
    if low_entropy(value):
        return _LOW_ENTROPY
    return None


_LOW_ENTROPY = f"is guessable (estimated entropy under {MIN_SECRET_BITS} bits)"


_WEAKNESS_IDS = {
    "is a well-known example value": "E005",
    f"starts with {INSECURE_PREFIX!r}": "E004",
    f"shorter than {MIN_SECRET_KEY_LENGTH} characters": "E002",
    f"fewer than {MIN_SECRET_KEY_UNIQUE_CHARACTERS} unique characters": "E003",
    _LOW_ENTROPY: "E023",
}

_GENERATE_HINT = (
    "Generate one with: python -c 'from django.core.management.utils import "
    "get_random_secret_key as g; print(g())' and set SECRET_KEY (or SECRET_KEY_FILE)."
)


def _secret_key() -> str:
    try:
        return str(settings.SECRET_KEY or "")
    except ImproperlyConfigured:  # Django refuses access to an empty SECRET_KEY
        return ""


@register
def check_secret_key(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    key = _secret_key()
    if not key:
        messages.append(problem("E001", "SECRET_KEY is missing or empty.", _GENERATE_HINT))
    else:
        weakness = secret_weakness(key)
        if weakness:
            messages.append(
                problem(_WEAKNESS_IDS[weakness], f"SECRET_KEY {weakness}.", _GENERATE_HINT)
            )
    for index, fallback in enumerate(getattr(settings, "SECRET_KEY_FALLBACKS", []) or []):
        weakness = "is empty" if not fallback else secret_weakness(str(fallback))
        if weakness:
            messages.append(
                problem(
                    "E006",
                    f"SECRET_KEY_FALLBACKS[{index}] {weakness}.",
                    "Remove weak keys from SECRET_KEY_FALLBACKS; fallbacks still sign "
                    "and verify sessions and tokens.",
                )
            )
    return messages


def _jwt_key_bytes(value: str) -> int:
    return len(value.encode("utf-8"))


@register
def check_jwt_signing_key(**kwargs: Any) -> list[CheckMessage]:
    if not jwt.HARDENING_JWT_OWN_TOKENS:
        return []
    messages: list[CheckMessage] = []
    algorithm = jwt.HARDENING_JWT_ALGORITHM
    signing_key = jwt.HARDENING_JWT_SIGNING_KEY
    if algorithm not in SUPPORTED_JWT_ALGORITHMS:
        return [
            Error(
                f"HARDENING_JWT_ALGORITHM {algorithm!r} is not supported.",
                hint=f"Use one of {', '.join(sorted(SUPPORTED_JWT_ALGORITHMS))}.",
                id="hardening.E043",
            )
        ]
    if not signing_key and ownkeys.rotating() and ownkeys.raw_keys():
        return messages  # a list with no key signing now: E131/E132 say why
    if not signing_key:
        messages.append(
            problem(
                "E040",
                "The JWT signing key (HARDENING_JWT_SIGNING_KEY) is missing.",
                "Set JWT_PRIVATE_KEY_FILE / JWT_PUBLIC_KEY_FILE (RS256), or a dedicated "
                "random JWT_SIGNING_KEY of at least 32 bytes for HS256.",
            )
        )
        return messages
    secret_keys = {_secret_key(), *map(str, getattr(settings, "SECRET_KEY_FALLBACKS", []) or [])}
    found, skip_length = jwt_key_problems(
        algorithm, signing_key, secret_keys, weak=KNOWN_WEAK_SECRETS
    )
    messages += found
    if (
        not skip_length
        and algorithm.startswith("HS")
        and _jwt_key_bytes(signing_key) < MIN_HMAC_KEY_BYTES
    ):
        messages.append(
            problem(
                "E041",
                f"The {algorithm} JWT signing key is shorter than {MIN_HMAC_KEY_BYTES} bytes.",
                "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'.",
            )
        )
    rotating = ownkeys.rotating()  # a list of keys: each public half comes from its key
    if not algorithm.startswith("HS") and not jwt.HARDENING_JWT_VERIFYING_KEY and not rotating:
        messages.append(
            problem(
                "E044",
                f"{algorithm} needs a public key (HARDENING_JWT_VERIFYING_KEY).",
                "Set JWT_PUBLIC_KEY / JWT_PUBLIC_KEY_FILE to the PEM public key.",
            )
        )
    return messages


SUPPORTED_JWT_ALGORITHMS = frozenset(
    {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "EdDSA"}
)


@register
def check_clerk_keys(**kwargs: Any) -> list[CheckMessage]:
    if not conf.is_production:
        return []
    messages: list[CheckMessage] = []
    clerk = [issuer for issuer in issuers() if issuer.kind == "clerk"]
    if any(issuer.secret_key.startswith("sk_test_") for issuer in clerk):
        messages.append(
            problem(
                "E045",
                "A Clerk development secret key (sk_test_) is used in production.",
                "Use the sk_live_ key of your production Clerk instance.",
            )
        )
    if any(issuer.publishable_key.startswith("pk_test_") for issuer in clerk):
        messages.append(
            problem(
                "E046",
                "A Clerk development publishable key (pk_test_) is used in production.",
                "Use the pk_live_ key of your production Clerk instance.",
            )
        )
    return messages


def _is_fernet_key(key: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False


def _mfa_mounted() -> bool:
    """Users can enroll a TOTP device (its secret is what the keys encrypt)."""
    for name in ("hardening:mfa-page", "hardening:mfa-totp"):
        try:
            reverse(name)
        except NoReverseMatch:
            continue
        return True
    return False


def _encrypted_fields_installed() -> bool:
    """An installed model has an ``EncryptedTextField`` / ``EncryptedJSONField``."""
    from django.apps import apps

    from hardening.crypto.fields import is_encrypted

    return any(is_encrypted(field) for model in apps.get_models() for field in model._meta.fields)


@register
def check_field_encryption_keys(**kwargs: Any) -> list[CheckMessage]:
    if not (_mfa_mounted() or _encrypted_fields_installed()):
        return []
    keys = conf.HARDENING_FIELD_ENCRYPTION_KEYS
    if not keys:
        return [
            problem(
                "E047",
                "HARDENING_FIELD_ENCRYPTION_KEYS is empty: secrets cannot be encrypted.",
                "Generate a key with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())' and set FIELD_ENCRYPTION_KEYS.",
            )
        ]
    bad = [str(index) for index, key in enumerate(keys) if not _is_fernet_key(key)]
    if not bad:
        return field_key_problems(keys)
    if bad:
        return [
            problem(
                "E048",
                f"HARDENING_FIELD_ENCRYPTION_KEYS entries {', '.join(bad)} are not Fernet keys.",
                "Each key must be 32 url-safe base64-encoded bytes (Fernet.generate_key()).",
            )
        ]
    return []
