"""Signature and registered-claim checks on an already parsed token.

PyJWT's ``jwt.decode`` would parse the token a second time and costs about 80 µs per call
(most of it re-validating base64 character by character); we have parsed and checked the
structure already, so the signature is verified with PyJWT's algorithm objects directly and
the claims are checked here with the same rules PyJWT applies (plus types, finiteness, and
the lifetime cap PyJWT lacks).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from jwt.algorithms import get_default_algorithms
from jwt.exceptions import InvalidKeyError

from hardening.jwt.parsing import Parsed, TokenRejected

__all__ = ["check_lifetime", "validate_claims", "verify_signature"]

_ALGORITHMS = get_default_algorithms()


def verify_signature(parsed: Parsed, key: Any, kind: str) -> None:
    """Check the signature of ``parsed`` with ``key`` for its (already allowed) ``alg``."""
    algorithm = _ALGORITHMS.get(parsed.alg)
    if algorithm is None:
        raise TokenRejected("algorithm", kind)
    try:
        valid = algorithm.verify(parsed.signing_input, key, parsed.signature)
    except (InvalidKeyError, ValueError, TypeError):
        valid = False
    if not valid:
        raise TokenRejected("signature", kind)


def _number(claims: dict[str, Any], name: str, kind: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TokenRejected("malformed", kind)
    return float(value)


def validate_claims(
    claims: dict[str, Any],
    *,
    kind: str,
    issuer: str,
    audience: Sequence[str],
    required: Sequence[str],
    leeway: float,
) -> None:
    """Required claims, ``exp``/``nbf``/``iat`` with ``leeway``, exact ``iss``, and ``aud``:
    one of ``audience`` when configured, refused when present but not expected."""
    for name in required:
        if claims.get(name) is None:
            raise TokenRejected("missing_claim", kind)
    now = time.time()
    exp = _number(claims, "exp", kind)
    nbf = _number(claims, "nbf", kind)
    iat = _number(claims, "iat", kind)
    if exp is not None and exp <= now - leeway:
        raise TokenRejected("expired", kind)
    if (nbf is not None and nbf > now + leeway) or (iat is not None and iat > now + leeway):
        raise TokenRejected("not_yet_valid", kind)
    if claims.get("iss") != issuer:
        raise TokenRejected("issuer", kind)
    aud = claims.get("aud")
    if audience:
        if aud is None:
            raise TokenRejected("missing_claim", kind)
        values = [aud] if isinstance(aud, str) else aud
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise TokenRejected("malformed", kind)
        if not set(values) & set(audience):
            raise TokenRejected("audience", kind)
    elif aud:
        raise TokenRejected("audience", kind)


def check_lifetime(claims: dict[str, Any], max_lifetime: int, leeway: int) -> None:
    """Refuse absurd ``exp`` values (``1e300``, ten years) that PyJWT accepts."""
    exp = _number(claims, "exp", "unknown")
    if exp is None:
        raise TokenRejected("missing_claim")
    if exp - time.time() > max_lifetime + leeway:
        raise TokenRejected("lifetime")
    iat = _number(claims, "iat", "unknown")
    if iat is not None and exp - iat > max_lifetime:
        raise TokenRejected("lifetime")
