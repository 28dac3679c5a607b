"""Fetching and parsing a JWKS document: only signing keys, http(s) only, no redirects,
a total deadline and a size cap.

The deadline covers name resolution, connect, TLS, headers and body together
(:mod:`hardening.jwt.transport`).  HTTPS verifies against the default trust store, which
``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` replace (a private CA).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from hardening.jwt.transport import deadline_opener

__all__ = [
    "KeyLookupError",
    "SigningKey",
    "StaticKey",
    "cache_lifetime",
    "fetch_document",
    "fetch_document_lifetime",
    "fetch_jwks",
    "parse_jwks",
    "usable_keys",
]

MAX_JWKS_BYTES = 512 * 1024
MIN_RSA_BITS = 2048
USER_AGENT = "django-hardening-jwks/1"


class KeyLookupError(Exception):
    """No usable key: ``reason`` is a short, bounded code (never a URL or a secret)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SigningKey:
    kid: str | None
    kty: str
    alg: str | None
    key: Any


def parse_jwks(document: Any) -> dict[str, SigningKey]:
    """The usable signing keys of a JWKS document, by ``kid``."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise KeyLookupError("invalid_jwks")
    found: dict[str, SigningKey] = {}
    duplicates: set[str] = set()
    for item in document["keys"]:
        if not isinstance(item, dict):
            continue
        kid, kty, use, ops = item.get("kid"), item.get("kty"), item.get("use"), item.get("key_ops")
        if not isinstance(kid, str) or not kid or kty not in ("RSA", "EC", "OKP"):
            continue
        if use not in (None, "sig"):
            continue
        if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
            continue
        try:
            key = jwt.PyJWK(item).key
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError):
            continue
        if hasattr(key, "private_bytes"):
            continue  # a private key in a JWKS is a leak, not a verification key
        if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
            continue
        alg = item.get("alg")
        if kid in found:
            duplicates.add(kid)
        found[kid] = SigningKey(kid, kty, alg if isinstance(alg, str) else None, key)
    for kid in duplicates:  # ambiguous: trust neither
        del found[kid]
    return found


def usable_keys(document: Any) -> dict[str, SigningKey]:
    """:func:`parse_jwks`, and a document without one usable signing key is an error: an
    empty or shrunk-to-nothing key set must not replace the keys that work."""
    keys = parse_jwks(document)
    if not keys:
        raise KeyLookupError("no_usable_keys")
    return keys


def fetch_jwks(url: str, timeout: float) -> dict[str, SigningKey]:
    """GET ``url`` within ``timeout`` seconds in total; raise :class:`KeyLookupError`."""
    return parse_jwks(fetch_document(url, timeout))


#: Bounds (seconds) on a JWKS response's ``Cache-Control: max-age``: at least a minute (a
#: ``no-cache`` or ``max-age=0`` endpoint is not fetched per request), at most a day.
MIN_MAX_AGE, MAX_MAX_AGE = 60.0, 86400.0


def cache_lifetime(cache_control: str | None, age: str | None) -> float | None:
    """Seconds a response may be cached, from ``Cache-Control`` (and ``Age``), clamped to
    [MIN_MAX_AGE, MAX_MAX_AGE]; None when the response says nothing (the configured TTL
    applies)."""
    directives = [d.strip().lower() for d in (cache_control or "").split(",")]
    if "no-store" in directives or "no-cache" in directives:
        return MIN_MAX_AGE
    for directive in directives:
        name, _, value = directive.partition("=")
        if name.strip() != "max-age":
            continue
        try:
            seconds = float(int(value.strip().strip('"')))
            seconds -= float(int(age or 0))
        except ValueError:
            return None
        return min(max(seconds, MIN_MAX_AGE), MAX_MAX_AGE)
    return None


def fetch_document(url: str, timeout: float) -> Any:
    """The decoded JSON document at ``url`` (same rules as :func:`fetch_jwks`)."""
    return fetch_document_lifetime(url, timeout)[0]


def fetch_document_lifetime(url: str, timeout: float) -> tuple[Any, float | None]:
    """``(document, cache lifetime)``: see :func:`fetch_document` and :func:`cache_lifetime`."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise KeyLookupError("bad_url")
    deadline = time.monotonic() + timeout
    opener = deadline_opener(deadline)
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, headers={"Accept": "application/json", "User-Agent": USER_AGENT}
    )
    try:
        with opener.open(request, timeout=timeout) as response:
            if response.status != 200:
                raise KeyLookupError("http_status")
            lifetime = cache_lifetime(
                response.headers.get("Cache-Control"), response.headers.get("Age")
            )
            chunks: list[bytes] = []
            size = 0
            while True:
                if time.monotonic() > deadline:
                    raise KeyLookupError("timeout")
                chunk = response.read1(16384)
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_JWKS_BYTES:
                    raise KeyLookupError("too_large")
                chunks.append(chunk)
    except urllib.error.HTTPError:
        raise KeyLookupError("http_status") from None
    except TimeoutError:
        raise KeyLookupError("timeout") from None
    except urllib.error.URLError as exc:
        code = "timeout" if isinstance(exc.reason, TimeoutError) else "connection"
        raise KeyLookupError(code) from None
    except OSError:
        raise KeyLookupError("connection") from None
    try:
        document = json.loads(b"".join(chunks))
    except (ValueError, RecursionError):
        raise KeyLookupError("invalid_json") from None
    return document, lifetime


class StaticKey:
    """A PEM public key (``CLERK_JWT_KEY``): networkless verification, any ``kid``."""

    def __init__(self, pem: str) -> None:
        try:
            key = load_pem_public_key(pem.encode())
        except (ValueError, TypeError):
            raise KeyLookupError("bad_public_key") from None
        if isinstance(key, rsa.RSAPublicKey):
            kty = "RSA"
        elif isinstance(key, ec.EllipticCurvePublicKey):
            kty = "EC"
        else:
            kty = "OKP"
        self.key = SigningKey(None, kty, None, key)

    def get(self, kid: str) -> SigningKey:
        return self.key
