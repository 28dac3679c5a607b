"""The project's own signing keys: one key, or several by ``kid`` with rotation, and the
JWKS document that publishes their public halves (``/.well-known/jwks.json``).

``HARDENING_JWT_SIGNING_KEY`` is a key (a PEM private key, or the secret for HS*) or a list of
keys, each a dict::

    HARDENING_JWT_SIGNING_KEY = [
        {"kid": "2027-01", "key": NEW_PEM, "active_from": "2027-01-08T00:00:00Z"},
        {"kid": "2026-07", "key": OLD_PEM},  # active_from defaults to the epoch
    ]

* **Signing**: the key with the latest ``active_from`` that has passed signs new tokens, with
  its ``kid`` in the header (the setting's value, as every other module reads it, *is* that
  key: :func:`~hardening.jwt.signingkey.parse_signing_key`).
* **Publishing**: every key not retired, future ones included, so verifiers that cache the
  JWKS already hold a key before it signs anything.
* **Retirement**: a key is retired once its successor has been signing for longer than the
  longest token lifetime (``max(access, refresh)`` plus the leeway): no token it signed can
  still be valid.  A retired key neither verifies nor is published (``hardening.W131`` asks
  to remove it from the setting).
* ``kid`` defaults to the key's RFC 7638 thumbprint; a single PEM key gets its thumbprint too,
  so moving from one key to a list keeps the tokens already issued valid.

``manage.py rotate_jwt_keys`` prints the next value of the setting.
"""

from __future__ import annotations

import functools
from typing import Any

import jwt
from django.conf import settings

from hardening import clock
from hardening.jwt.conf import ISSUER, LEEWAY, conf
from hardening.jwt.signingkey import OwnKey, current, parse_keys, public_jwk, thumbprint

#: Seconds a JWKS response may be cached by verifiers (keys are pre-published: activate a
#: new key at least this long after adding it; ``rotate_jwt_keys`` defaults to one day).
JWKS_MAX_AGE = 300
_FAMILY = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}


def raw_keys() -> tuple[OwnKey, ...]:
    """The configured own keys ((), when the value is unusable: E040/E614-like checks)."""
    try:
        return parse_keys(getattr(settings, "HARDENING_JWT_SIGNING_KEY", ""))
    except (TypeError, ValueError):
        return ()


def rotating() -> bool:
    """Is ``HARDENING_JWT_SIGNING_KEY`` a list of keys?"""
    return isinstance(getattr(settings, "HARDENING_JWT_SIGNING_KEY", ""), list | tuple)


def longest_lifetime() -> float:
    lifetimes = (
        conf.HARDENING_JWT_ACCESS_TOKEN_LIFETIME,
        conf.HARDENING_JWT_REFRESH_TOKEN_LIFETIME,
    )
    return float(max(lifetimes) + LEEWAY)


def retired(keys: tuple[OwnKey, ...], now: float | None = None) -> set[str]:
    """The ``kid`` of each key whose successor has signed for longer than any token lives."""
    now = clock.now() if now is None else now
    longest = longest_lifetime()
    found = set()
    for older, newer in zip(keys, keys[1:], strict=False):
        if newer.active_from <= now - longest:
            found.add(older.kid)
    return found


def signing_kid() -> str:
    """The ``kid`` header of new own tokens ("" for a single HS* secret: no header)."""
    key = current(raw_keys())
    if key is None or (not key.public and not rotating()):
        return ""
    return key.kid


def verifying_key(kid: str | None, algorithm: str) -> str:
    """The key that verifies an own token with header ``kid`` ("" when none may)."""
    keys = raw_keys()
    if not rotating():
        if kid and keys and keys[0].kid and kid != keys[0].kid:
            return ""
        if algorithm.startswith("HS"):
            return conf.HARDENING_JWT_SIGNING_KEY
        return conf.HARDENING_JWT_VERIFYING_KEY or (keys[0].public if keys else "")
    now = clock.now()
    gone = retired(keys, now)
    # No kid: a token from before the list, verified with the key signing now.
    found = current(keys, now) if kid is None else next((k for k in keys if k.kid == kid), None)
    if found is None or found.kid in gone or found.active_from > now + LEEWAY:
        return ""
    return found.key if algorithm.startswith("HS") else found.public


def jwks() -> dict[str, Any]:
    """The JWKS of the own keys: public keys not retired (none for HS*)."""
    algorithm = conf.HARDENING_JWT_ALGORITHM
    if algorithm.startswith("HS") or not conf.HARDENING_JWT_OWN_TOKENS:
        return {"keys": []}
    keys = raw_keys()
    gone = retired(keys)
    published = []
    for key in keys:
        public = key.public or (conf.HARDENING_JWT_VERIFYING_KEY if not rotating() else "")
        if not public or key.kid in gone:
            continue
        jwk = public_jwk(public)
        if jwk.get("kty") != _FAMILY.get(algorithm[:2]):
            continue
        published.append(
            {**jwk, "kid": key.kid or thumbprint(public), "use": "sig", "alg": algorithm}
        )
    return {"keys": published}


@functools.lru_cache(maxsize=8)
def token_backend(algorithm: str, signing_key: str, kid: str = "") -> Any:
    """simplejwt's ``TokenBackend`` for encoding (``verify.verify_own`` verifies), adding the
    X"""
    from rest_framework_simplejwt.backends import TokenBackend

    class Backend(TokenBackend):
        def encode(self, payload: dict[str, Any]) -> str:
            key, headers = self.prepared_signing_key, {"kid": kid} if kid else None
            return jwt.encode({**payload, "iss": ISSUER}, key, self.algorithm, headers)

    return Backend(algorithm, signing_key=signing_key, issuer=ISSUER)
