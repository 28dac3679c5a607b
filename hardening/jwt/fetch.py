"""Where a JWKS document comes from: over HTTP (a total deadline, a size cap, never
redirected), or from the copy another process fetched (:class:`SharedJWKS`); and the
signing keys it holds (:func:`parse_jwks`).

The deadline covers name resolution, connect, TLS, headers and body together
(:mod:`hardening.jwt.transport`).  HTTPS verifies against the default trust store, which
``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` replace (a private CA).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from hardening import clock
from hardening.breaker import GuardedCache
from hardening.jwt.transport import BodyTooLarge, deadline_opener, read_body
from hardening.observability.correlation import outgoing_headers

MAX_JWKS_BYTES = 512 * 1024
MIN_RSA_BITS = 2048
USER_AGENT = "django-hardening-jwks/1"
logger = logging.getLogger("hardening.jwt")


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
    return parse_jwks(fetch_document(url, timeout)[0])


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


def fetch_document(url: str, timeout: float) -> tuple[Any, float | None]:
    """``(decoded JSON document, cache lifetime)`` of ``url`` (:func:`cache_lifetime`);
    http(s) only, no redirects, ``timeout`` seconds in total, at most ``MAX_JWKS_BYTES``."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise KeyLookupError("bad_url")
    deadline = time.monotonic() + timeout
    opener = deadline_opener(deadline)
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        headers={"Accept": "application/json", "User-Agent": USER_AGENT, **outgoing_headers()},
    )
    try:
        with opener.open(request, timeout=timeout) as response:
            if response.status != 200:
                raise KeyLookupError("http_status")
            lifetime = cache_lifetime(
                response.headers.get("Cache-Control"), response.headers.get("Age")
            )
            body = read_body(response, deadline, MAX_JWKS_BYTES)
    except BodyTooLarge:
        raise KeyLookupError("too_large") from None
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
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise KeyLookupError("invalid_json") from None
    return document, lifetime


class SharedJWKS:
    """A JWKS document shared between processes through a Django cache.

    Stores ``{"at": wall-clock fetch time, "jwks": document, "ttl": seconds fresh}``.  Cache
    failures are logged and ignored (and go through the cache's circuit breaker): the
    network fetch still works."""

    def __init__(self, alias: str, url: str) -> None:
        self.alias = alias
        self.key = "hardening:jwks:" + hashlib.sha256(url.encode()).hexdigest()

    def get(self) -> tuple[Any, float, float | None] | None:
        """``(document, age in seconds, ttl or None)`` of the shared entry, if any."""
        try:
            entry = GuardedCache(self.alias).get(self.key)
        except Exception:  # noqa: BLE001 - any cache failure means "no shared entry"
            logger.warning("JWKS shared cache %r unavailable", self.alias)
            return None
        if not isinstance(entry, dict) or not isinstance(entry.get("at"), int | float):
            return None
        age = max(0.0, clock.now() - float(entry["at"]))
        ttl = entry.get("ttl")
        return entry.get("jwks"), age, float(ttl) if isinstance(ttl, int | float) else None

    def newer(
        self, than: float | None, default_ttl: float, stale_ttl: float
    ) -> tuple[dict[str, SigningKey], float, float] | None:
        """``(keys, age, ttl)`` of the shared document when it is younger than ``than``
        seconds (None: any age) and within its TTL + ``stale_ttl``, and has a usable key."""
        entry = self.get()
        if entry is None:
            return None
        document, age, ttl = entry
        ttl = default_ttl if ttl is None else ttl
        if age >= ttl + stale_ttl or (than is not None and age >= than):
            return None
        try:
            return usable_keys(document), age, ttl
        except KeyLookupError:
            return None

    def put(self, document: Any, ttl: float, timeout: float) -> None:
        entry = {"at": clock.now(), "jwks": document, "ttl": ttl}
        try:
            GuardedCache(self.alias).set(self.key, entry, timeout)
        except Exception:  # noqa: BLE001 - sharing is an optimisation
            logger.warning("JWKS shared cache %r unavailable", self.alias)
