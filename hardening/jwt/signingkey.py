"""The value of ``HARDENING_JWT_SIGNING_KEY``: one key (a PEM private key, or the secret for
HS*) or a list of ``{kid, key, active_from}`` dicts, parsed into :class:`OwnKey` values
(oldest activation first), with the public-key helpers that parsing needs: a key's public
half, its JWK and its RFC 7638 thumbprint (the default ``kid``).

:func:`parse_signing_key` is the setting's parser (:mod:`hardening.jwt.conf`): the value
every other module reads *is* the key signing now.  What the keys mean over time (which one
verifies, which ones are retired and published) is :mod:`hardening.jwt.ownkeys`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization

from hardening import clock


@dataclass(frozen=True)
class OwnKey:
    kid: str
    key: str = field(repr=False)  # PEM private key, or the HS* secret
    public: str  # PEM public key ("" for HS* or an unreadable key)
    active_from: float  # Unix time


def _moment(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        raise TypeError("active_from: expected a date, got a bool")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return float(value.timestamp())
    raise TypeError(f"active_from: expected an ISO 8601 date, got {type(value).__name__}")


def public_pem(private: str) -> str:
    """The PEM public key of a PEM private key, or "" (a secret, or unreadable)."""
    if "-----BEGIN" not in private:
        return ""
    try:
        key = serialization.load_pem_private_key(private.encode(), password=None)
    except (ValueError, TypeError):
        return ""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def public_jwk(public: str) -> dict[str, Any]:
    """The JWK (a dict) of a PEM public key."""
    key = serialization.load_pem_public_key(public.encode())
    return dict(json.loads(_jwk_json(key)))


def _jwk_json(key: Any) -> str:
    from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

    for algorithm in (RSAAlgorithm, ECAlgorithm, OKPAlgorithm):
        try:
            return str(algorithm.to_jwk(key))
        except (jwt.InvalidKeyError, TypeError, ValueError, AttributeError):
            continue
    raise ValueError("unsupported public key")


def thumbprint(public: str) -> str:
    """RFC 7638 thumbprint (base64url SHA-256) of a PEM public key."""
    import base64
    import hashlib

    jwk = public_jwk(public)
    members = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}
    required = {name: jwk[name] for name in members[jwk["kty"]]}
    digest = hashlib.sha256(json.dumps(required, separators=(",", ":"), sort_keys=True).encode())
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


@functools.lru_cache(maxsize=16)
def _load(entries: tuple[tuple[str, str, float], ...]) -> tuple[OwnKey, ...]:
    keys = []
    for kid, key, active_from in entries:
        public = public_pem(key)
        if not kid and public:
            kid = thumbprint(public)
        keys.append(OwnKey(kid, key, public, active_from))
    return tuple(sorted(keys, key=lambda k: k.active_from))


def parse_keys(value: Any) -> tuple[OwnKey, ...]:
    """Every own key of a ``HARDENING_JWT_SIGNING_KEY`` value, oldest activation first."""
    if value is None or isinstance(value, str):
        return _load((("", value, 0.0),)) if value else ()
    if not isinstance(value, list | tuple):
        raise TypeError(f"expected a key or a list of dicts, got {type(value).__name__}")
    entries: list[tuple[str, str, float]] = []
    for index, item in enumerate(value):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not item["key"]:
            raise ValueError(f"entry {index}: expected a dict with a 'key' string")
        unknown = set(item) - {"kid", "key", "active_from"}
        if unknown:
            raise ValueError(f"entry {index}: unknown key {sorted(unknown)[0]!r}")
        kid = item.get("kid") or ""
        if not isinstance(kid, str):
            raise ValueError(f"entry {index}: 'kid' must be a string")
        entries.append((kid, item["key"], _moment(item.get("active_from"))))
    keys = _load(tuple(entries))
    kids = [k.kid for k in keys if k.kid]
    if len(kids) != len(set(kids)):
        raise ValueError("two keys have the same kid")
    return keys


def current(keys: tuple[OwnKey, ...], now: float | None = None) -> OwnKey | None:
    """The key that signs at ``now``: the latest activated one (None before the first;
    ``hardening.E132``)."""
    now = clock.now() if now is None else now
    active = [k for k in keys if k.active_from <= now]
    return active[-1] if active else None


def parse_signing_key(value: Any) -> str:
    """The setting's parser: the key that signs now (what every other module reads)."""
    key = current(parse_keys(value))
    return key.key if key else ""
