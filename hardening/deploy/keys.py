"""Checks of what a key is made of (``E023``–``E027``, ``E042`` near-copies, ``E051``).

Strength is judged by :func:`hardening.deploy.strength.estimated_bits` and the lists of
published values, never by length alone (docs/checks.md).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable

from django.core.checks import CheckMessage

from hardening.checks import problem
from hardening.deploy.strength import MIN_SECRET_BITS, estimated_bits, is_pem, is_published, related

_FERNET_HINT = (
    "Generate a key with: python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())' and list it first; keep the old key only "
    "until reencrypt_mfa_secrets has run."
)
#: Distinct byte values a Fernet key's 32 bytes must have (random keys have 23 or more).
MIN_DISTINCT_KEY_BYTES = 16
_GENERATE = "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'."  # noqa: S105 - a hint, not a secret


def low_entropy(value: str) -> bool:
    return estimated_bits(value) < MIN_SECRET_BITS


def jwt_key_problems(
    algorithm: str, key: str, secret_keys: Iterable[str], *, weak: frozenset[str]
) -> tuple[list[CheckMessage], bool]:
    """The problems of the JWT signing ``key``, and whether the length check must be skipped."""
    messages: list[CheckMessage] = []
    hmac = algorithm.startswith("HS")
    if hmac and is_pem(key):
        messages.append(
            problem(
                "E027",
                f"HARDENING_JWT_ALGORITHM is {algorithm} but the signing key is a PEM key.",
                "Use RS256/ES256 with JWT_PRIVATE_KEY and JWT_PUBLIC_KEY for a key pair, or a "
                "random shared secret for HS256. " + _GENERATE,
            )
        )
        return messages, True
    if is_published(key) or key.strip().lower() in weak:
        messages.append(
            problem(
                "E025",
                "The JWT signing key is a published example or development value.",
                "Anyone can forge tokens with it. " + _GENERATE,
            )
        )
    elif hmac and low_entropy(key):
        messages.append(
            problem(
                "E024",
                f"The {algorithm} JWT signing key is guessable (estimated entropy under "
                f"{MIN_SECRET_BITS} bits: repeats, sequences or words).",
                _GENERATE,
            )
        )
    if any(related(key, other) for other in secret_keys if other):
        messages.append(
            problem(
                "E042",
                "The JWT signing key is the same as, or a near-copy of, SECRET_KEY.",
                "Use a dedicated key: a leak of one must not compromise the other.",
            )
        )
    return messages, False


def weak_fernet_key(key: str) -> bool:
    """Is this Fernet key (valid base64 of 32 bytes) made by hand rather than at random?

    The check reads the decoded bytes, not the base64 text: fewer than
    :data:`MIN_DISTINCT_KEY_BYTES` distinct byte values, or an estimated entropy under
    :data:`MIN_SECRET_BITS` (repeats, sequences, words: base64 of 32 zero bytes, of ``a`` x
    32, of ``abcd`` x 8 or of a passphrase).  32 random bytes score about 190 bits."""
    try:
        raw = base64.urlsafe_b64decode(key.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False  # not a Fernet key at all: hardening.E048
    if len(set(raw)) < MIN_DISTINCT_KEY_BYTES:
        return True
    return estimated_bits(raw.decode("latin-1")) < MIN_SECRET_BITS


def field_key_problems(keys: list[str]) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    published = [str(index) for index, key in enumerate(keys) if is_published(key)]
    if published:
        messages.append(
            problem(
                "E026",
                f"HARDENING_FIELD_ENCRYPTION_KEYS entries {', '.join(published)} are published "
                "development keys.",
                _FERNET_HINT,
            )
        )
    weak = [
        str(index)
        for index, key in enumerate(keys)
        if not is_published(key) and weak_fernet_key(key)
    ]
    if weak:
        messages.append(
            problem(
                "E051",
                f"HARDENING_FIELD_ENCRYPTION_KEYS entries {', '.join(weak)} are guessable "
                "(not random bytes).",
                _FERNET_HINT,
            )
        )
    return messages
