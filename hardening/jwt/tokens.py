"""The project's own tokens, issued with simplejwt and configured by hardening.

simplejwt builds its token backend and lifetimes from ``SIMPLE_JWT`` at import time (its
issue #58), so ``override_settings`` does not reach them.  The token classes here read
``HARDENING_JWT_*`` on every use instead: lifetimes are properties, and the backend comes
from a small cache keyed by the settings it is built from.  Verification of access tokens
is done here with PyJWT directly (same key, same algorithm allow-list of one) so every
rejection has a precise reason; refresh tokens go through simplejwt's blacklist.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, cache

from hardening.breaker import GuardedCache
from hardening.conf import conf
from hardening.jwt.claims import check_lifetime, validate_claims, verify_signature
from hardening.jwt.lifecycle import FAMILY_PREFIX, password_fingerprint
from hardening.jwt.parsing import Parsed, TokenRejected
from hardening.observability.metrics import REVOCATION_UNCHECKED
from hardening.outage import is_outage

__all__ = [
    "REVOCATION_CACHE",
    "check_not_revoked",
    "issue_token_pair",
    "revocation_keys",
    "revoke_access_token",
    "verify_own",
]

OWN_REQUIRED_CLAIMS = ["exp", "iat", "jti", "token_type", "user_id", "iss"]
_REVOKED_PREFIX = "hardening:jwt:revoked:"
#: The cache alias holding revoked ``jti`` and family keys (``django.core.cache.cache``).
REVOCATION_CACHE = DEFAULT_CACHE_ALIAS


def issue_token_pair(
    user: Any, *, amr: list[str], auth_time: int | None = None, family: str | None = None
) -> dict[str, str]:
    """A new ``{"access", "refresh"}`` pair for ``user``.

    ``family`` (``fam``) is the first refresh token's ``jti`` of this login, carried across
    rotations; ``pwv`` ties both tokens to the current password (``hardening.jwt.lifecycle``).

    Both carry ``amr`` (how the user authenticated, e.g. ``["pwd", "otp"]``) and
    ``auth_time``; refreshing keeps them, so a step-up check sees the original login.
    The refresh token is recorded as outstanding so that logout and rotation can
    blacklist it.
    """
    from hardening.jwt.simplejwt import HardeningRefreshToken

    refresh = HardeningRefreshToken()
    refresh["user_id"] = str(user.pk)
    refresh["amr"] = list(amr)
    refresh["auth_time"] = int(time.time()) if auth_time is None else int(auth_time)
    refresh["fam"] = family or str(refresh["jti"])
    fingerprint = password_fingerprint(user)
    if fingerprint is not None:
        refresh["pwv"] = fingerprint
    refresh.record_outstanding(user)
    return {"access": str(refresh.access_token()), "refresh": str(refresh)}


def verify_own(parsed: Parsed, *, defer_revocation: bool = False) -> dict[str, Any]:
    """The verified claims of one of the project's own access tokens.

    ``defer_revocation``: the caller has the revocation lookup carried by the rate
    limiter's Redis round trip (``hardening.jwt.auth``) and settles it before the view."""
    algorithm = conf.HARDENING_JWT_ALGORITHM
    if parsed.alg != algorithm:
        raise TokenRejected("algorithm", "jwt")
    typ = parsed.header.get("typ")
    if typ is not None and str(typ).lower() != "jwt":
        raise TokenRejected("typ", "jwt")
    from hardening.jwt.simplejwt import token_backend

    key = token_backend().prepared_verifying_key
    if not key:
        raise TokenRejected("signature", "jwt")
    verify_signature(parsed, key, "jwt")
    leeway = conf.HARDENING_JWT_LEEWAY
    claims = dict(parsed.payload)
    validate_claims(
        claims,
        kind="jwt",
        issuer=conf.HARDENING_JWT_ISSUER,
        audience=(),
        required=OWN_REQUIRED_CLAIMS,
        leeway=leeway,
    )
    if claims.get("token_type") != "access":
        raise TokenRejected("wrong_type", "jwt")
    check_lifetime(claims, conf.HARDENING_JWT_ACCESS_TOKEN_LIFETIME, leeway)
    if not defer_revocation:
        check_not_revoked(claims)
    return claims


def check_not_revoked(claims: dict[str, Any]) -> None:
    """Refuse a revoked access token (``HARDENING_JWT_REVOKE_ACCESS_TOKENS``); run on every
    request, also when the token's signature and claims come from the verified-token memo.

    One cache round trip (``get_many``) covers the token's ``jti`` and its refresh family."""
    if not conf.HARDENING_JWT_REVOKE_ACCESS_TOKENS:
        return
    try:
        revoked = GuardedCache(REVOCATION_CACHE).get_many(revocation_keys(claims))
    except Exception as exc:
        if not is_outage(exc):
            raise
        # The cache is down or hung (the breaker logs the outage once): revocation cannot
        # be checked, and refusing every bearer request would take the API down with the
        # cache.  The token is accepted -- it lives at most its access lifetime (15 min by
        # default) -- and each such acceptance is counted (docs/jwt.md, docs/deployment.md).
        REVOCATION_UNCHECKED.inc()
        return
    if revoked:
        raise TokenRejected("revoked", "jwt")


def revocation_keys(claims: dict[str, Any]) -> list[str]:
    """The cache keys (before ``make_key``) whose presence revokes this access token."""
    keys = [_REVOKED_PREFIX + str(claims["jti"])]
    if claims.get("fam"):
        keys.append(FAMILY_PREFIX + str(claims["fam"]))
    return keys


def revoke_access_token(claims: dict[str, Any]) -> None:
    """Refuse this access token from now on (``HARDENING_JWT_REVOKE_ACCESS_TOKENS``)."""
    remaining = int(claims.get("exp", 0) - time.time()) + conf.HARDENING_JWT_LEEWAY
    if remaining > 0:
        cache.set(_REVOKED_PREFIX + str(claims["jti"]), 1, remaining)
