"""A compact JWS and its registered claims: the checks every bearer token goes through,
whoever issued it, before and after its key is looked up.

PyJWT checks signatures and registered claims; what it leaves to the caller is done here,
cheaply and before any network or database work: a size cap, the compact-serialisation
alphabet, exactly three segments, ``alg=none`` in any spelling, header parameters that
would make a verifier fetch or trust attacker-supplied keys (``jwk``, ``jku``, ``x5u``,
``x5c``), ``crit`` / ``b64`` / ``zip`` (no extension is understood, so any is refused),
``kid`` type and length, and duplicate JSON members (PyJWT silently keeps the last one).

PyJWT's ``jwt.decode`` would parse the token a second time and costs about 80 µs per call
(most of it re-validating base64 character by character); the structure is checked here
already, so the signature is verified with PyJWT's algorithm objects directly and the claims
are checked with the same rules PyJWT applies (plus types, finiteness, and the lifetime cap
PyJWT lacks).  Nothing here reads a setting.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jwt.algorithms import get_default_algorithms
from jwt.exceptions import InvalidKeyError

from hardening import clock

#: Tokens longer than this are rejected before any parsing.
MAX_TOKEN_BYTES = 8192

#: Every reason a token can be rejected for: the bounded label set of the metrics.
REASONS = frozenset(
    {
        "too_large",
        "malformed",
        "alg_none",
        "algorithm",
        "header",
        "crit",
        "bad_kid",
        "typ",
        "duplicate_claim",
        "unknown_issuer",
        "unknown_key",
        "jwks_unavailable",
        "signature",
        "expired",
        "not_yet_valid",
        "issuer",
        "audience",
        "azp",
        "missing_claim",
        "claim_type",
        "lifetime",
        "pending_session",
        "machine_token",
        "machine_invalid",
        "machine_unavailable",
        "wrong_type",
        "revoked",
        "user",
        "csrf",
    }
)

_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
_KID = re.compile(r"[\x21-\x7e]{1,256}")
MAX_DEPTH = 16
FORBIDDEN_HEADERS = ("jwk", "jku", "x5u", "x5c", "crit", "b64", "zip")


class TokenRejected(Exception):
    """A bearer token that must not authenticate; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, kind: str = "unknown") -> None:
        assert reason in REASONS, reason
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


@dataclass(frozen=True)
class Parsed:
    raw: str
    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def alg(self) -> str:
        return str(self.header["alg"])

    @property
    def kid(self) -> str | None:
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None


class _Duplicate(ValueError):
    pass


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Duplicate(key)
        result[key] = value
    return result


def _segment(segment: str) -> dict[str, Any]:
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(data, object_pairs_hook=_object)
    except _Duplicate:
        raise TokenRejected("duplicate_claim") from None
    except (binascii.Error, ValueError, RecursionError):
        raise TokenRejected("malformed") from None
    if not isinstance(value, dict) or _too_deep(value):
        raise TokenRejected("malformed")
    return value


def _too_deep(value: dict[str, Any]) -> bool:
    """Nesting beyond :data:`MAX_DEPTH` (iterative: the recursion limit differs by Python)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


def parse(raw: str) -> Parsed:
    """Decode (without verifying) and check the structure of ``raw``."""
    if len(raw) > MAX_TOKEN_BYTES:
        raise TokenRejected("too_large")
    if not _COMPACT.fullmatch(raw):
        raise TokenRejected("malformed")
    header_segment, payload_segment, signature = raw.split(".")
    header = _segment(header_segment)
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise TokenRejected("malformed")
    if alg.strip().lower() == "none":
        raise TokenRejected("alg_none")
    for name in FORBIDDEN_HEADERS:
        if name in header:
            raise TokenRejected("crit" if name in ("crit", "b64") else "header")
    if "kid" in header and not (isinstance(header["kid"], str) and _KID.fullmatch(header["kid"])):
        raise TokenRejected("bad_kid")
    if "typ" in header and not isinstance(header["typ"], str):
        raise TokenRejected("typ")
    if not signature:
        raise TokenRejected("malformed")
    payload = _segment(payload_segment)
    try:
        signature_bytes = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    except (binascii.Error, ValueError):
        raise TokenRejected("malformed") from None
    signing_input = f"{header_segment}.{payload_segment}".encode("ascii")
    return Parsed(raw, header, payload, signing_input, signature_bytes)


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
    now = clock.now()
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
    if exp - clock.now() > max_lifetime + leeway:
        raise TokenRejected("lifetime")
    iat = _number(claims, "iat", "unknown")
    if iat is not None and exp - iat > max_lifetime:
        raise TokenRejected("lifetime")
