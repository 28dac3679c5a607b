"""One bearer-token authentication path shared by the middleware and the DRF classes.

:func:`authenticate` verifies at most once per request: the outcome (a result, None, or
the rejection) is stored on the Django request, so the middleware and the DRF class after
it never verify twice, and a rejection is counted and audited exactly once.

The revocation lookup of own access tokens can ride in the rate limiter's Redis round trip:
when the JWT middleware is directly followed by the rate-limit middleware, rate limits are
on and their cache is the Redis cache holding the revocation keys (``REVOCATION_CACHE``),
the middleware's :func:`authenticate` records the token's revocation keys as *pending*
instead of reading them.  :func:`settle_revocation` then settles them before the view runs:
with the limiter's answer, or by the direct cache read wherever the limiter did not carry
them (exempt path, cache error, breaker open, DRF without the middleware...).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from jwt.exceptions import InvalidKeyError

from hardening.conf import conf
from hardening.jwt.config import CLERK_MACHINE_PREFIXES, issuer_for
from hardening.jwt.jwks import KeyLookupError, KeyStore, store_for
from hardening.jwt.memo import replay, verified_memo
from hardening.jwt.parsing import TokenRejected, parse
from hardening.jwt.tokens import REVOCATION_CACHE, check_not_revoked, revocation_keys, verify_own
from hardening.jwt.users import external_user, own_user
from hardening.jwt.verifier import verify_external
from hardening.observability.audit import audit
from hardening.observability.metrics import AUTH_FAILURES

__all__ = [
    "AuthResult",
    "authenticate",
    "bearer_token",
    "pending_revocation",
    "settle_revocation",
    "verify_token",
]

logger = logging.getLogger("hardening.jwt")

RESULT_ATTR = "_hardening_jwt_result"
KIND_ATTR = "hardening_auth_kind"
PENDING_ATTR = "_hardening_jwt_revocation_pending"
JWT_MIDDLEWARE = "hardening.jwt.middleware.JWTAuthenticationMiddleware"
RATELIMIT_MIDDLEWARE = "hardening.ratelimit.middleware.RateLimitMiddleware"
CLERK_COOKIE = "__session"


@dataclass(frozen=True)
class AuthResult:
    user: Any
    claims: dict[str, Any]
    kind: str  # "jwt" | "clerk" | "oidc"
    from_cookie: bool = False


def bearer_token(request: HttpRequest) -> tuple[str, bool] | None:
    """``(token, from_cookie)``, or None when the request uses no bearer token.

    The scheme is case-insensitive (RFC 7235).  Another scheme (``Basic``...) is not ours.
    The Clerk ``__session`` cookie is read only with ``HARDENING_CLERK_SESSION_COOKIE``.
    """
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        parts = header.split()
        if not parts or parts[0].lower() != "bearer":
            return None
        if len(parts) != 2:
            raise TokenRejected("malformed")
        return parts[1], False
    if conf.HARDENING_CLERK_SESSION_COOKIE:
        cookie = request.COOKIES.get(CLERK_COOKIE)
        if cookie:
            return cookie, True
    return None


def verify_token(
    raw: str, *, clerk_only: bool = False, defer_revocation: bool = False
) -> tuple[dict[str, Any], Any, str]:
    """``(claims, user, kind)`` for a raw token, or :class:`TokenRejected`.

    A token fully verified earlier is taken from the verified-token memo (:mod:`.memo`)."""
    if raw.startswith(CLERK_MACHINE_PREFIXES):
        raise TokenRejected("machine_token", "clerk")
    memo = verified_memo()
    digest = None
    if memo is not None and len(raw) <= memo.max_bytes:
        digest = memo.digest(raw)
        entry = memo.get(digest)
        if entry is not None and (not clerk_only or entry.kind == "clerk"):
            return replay(memo, digest, entry, defer_revocation=defer_revocation)
    parsed = parse(raw, max_bytes=conf.HARDENING_JWT_MAX_TOKEN_BYTES)
    iss = parsed.payload.get("iss")
    if not isinstance(iss, str) or not iss:
        raise TokenRejected("missing_claim")
    if not clerk_only and conf.HARDENING_JWT_OWN_TOKENS and iss == conf.HARDENING_JWT_ISSUER:
        claims = verify_own(parsed, defer_revocation=defer_revocation)
        user = own_user(claims)
        if memo is not None and digest is not None:
            memo.put(digest, claims, "jwt", None)
        return claims, user, "jwt"
    issuer = issuer_for(iss)
    if issuer is None or (clerk_only and issuer.kind != "clerk"):
        raise TokenRejected("unknown_issuer")
    try:
        store: Any = store_for(issuer)
    except KeyLookupError:
        store = None  # verify_external rejects the token
    # The key set is read before verifying: a refresh meanwhile leaves the entry stale.
    keys = store.keys if isinstance(store, KeyStore) else None
    claims = verify_external(parsed, issuer)
    user = external_user(claims, issuer)
    if memo is not None and digest is not None and (keys is None or store.keys is keys):
        # Only when the key set did not change meanwhile (a cold store's first fetch did).
        memo.put(digest, claims, issuer.kind, issuer, store if keys is not None else None, keys)
    return claims, user, issuer.kind


def _reject(request: HttpRequest, exc: TokenRejected) -> None:
    AUTH_FAILURES.labels(reason=exc.reason).inc()
    audit("token.rejected", request=request, reason=exc.reason, kind=exc.kind)


def authenticate(request: HttpRequest, *, defer_revocation: bool = False) -> AuthResult | None:
    """Verify the request's bearer token once; raise :class:`TokenRejected` when invalid.

    ``defer_revocation`` (the JWT middleware): leave the revocation lookup pending for the
    rate limiter when it can carry it (:func:`deferrable`).  Any other caller settles a
    pending lookup first, so nothing ever sees an unchecked token."""
    if PENDING_ATTR in request.__dict__:
        settle_revocation(request)
    cached = request.__dict__.get(RESULT_ATTR, request)
    if cached is not request:
        if isinstance(cached, TokenRejected):
            raise cached
        return cached  # type: ignore[no-any-return]
    result: AuthResult | None = None
    try:
        found = bearer_token(request)
        if found is not None:
            raw, from_cookie = found
            defer = defer_revocation and deferrable()
            try:
                claims, user, kind = verify_token(
                    raw, clerk_only=from_cookie, defer_revocation=defer
                )
            except InvalidKeyError:
                # HS* configured with a PEM key (hardening.E027): a server problem, never a 500.
                logger.error("The JWT signing key cannot be used with its algorithm (E027).")
                raise TokenRejected("signature", "jwt") from None
            except (ValueError, TypeError, OverflowError, KeyError):
                # Exotic claim values (an integer too large for a float): bad input, not a 500.
                raise TokenRejected("claim_type") from None
            result = AuthResult(user, claims, kind, from_cookie)
            if defer and kind == "jwt":
                setattr(request, PENDING_ATTR, revocation_keys(claims))
    except TokenRejected as exc:
        setattr(request, RESULT_ATTR, exc)
        _reject(request, exc)
        raise
    setattr(request, RESULT_ATTR, result)
    if result is not None:
        setattr(request, KIND_ATTR, result.kind)
    return result


def rejection(request: HttpRequest) -> TokenRejected | None:
    """The rejection recorded for ``request`` by :func:`authenticate`, if any."""
    cached = request.__dict__.get(RESULT_ATTR)
    return cached if isinstance(cached, TokenRejected) else None


def pending_revocation(request: HttpRequest) -> list[str] | None:
    """The revocation keys the rate limiter should check for ``request``, if any."""
    keys = request.__dict__.get(PENDING_ATTR)
    return keys if isinstance(keys, list) else None


def settle_revocation(request: HttpRequest, revoked: bool | None = None) -> None:
    """Settle a pending revocation lookup: ``revoked`` is the limiter's answer, None = it did
    not carry it (the direct cache read, as without deferral).  A revoked token becomes the
    request's rejection, exactly as if :func:`authenticate` had refused it."""
    if request.__dict__.pop(PENDING_ATTR, None) is None:
        return
    result = request.__dict__.get(RESULT_ATTR)
    if not isinstance(result, AuthResult):
        return
    if revoked is None:
        try:
            check_not_revoked(result.claims)
        except TokenRejected as exc:
            _revoke(request, exc)
    elif revoked:
        _revoke(request, TokenRejected("revoked", "jwt"))


def _revoke(request: HttpRequest, exc: TokenRejected) -> None:
    from hardening.jwt.middleware import BEARER_USER_ATTR, is_bearer_path

    setattr(request, RESULT_ATTR, exc)
    for attr in (KIND_ATTR, BEARER_USER_ATTR):
        request.__dict__.pop(attr, None)
    if is_bearer_path(request.path_info):  # as the JWT middleware does for a rejection
        request.user = AnonymousUser()
        request.__dict__.pop("auth_claims", None)
    _reject(request, exc)  # audited as other rejections: not as the token's user


def deferrable() -> bool:
    """Can the rate limiter carry the revocation lookup of this request's token?"""
    if not (conf.HARDENING_JWT_REVOKE_ACCESS_TOKENS and conf.HARDENING_RATELIMIT_ENABLED):
        return False
    if conf.HARDENING_RATELIMIT_CACHE != REVOCATION_CACHE or not _limiter_follows():
        return False
    from hardening.ratelimit.limiter import redis_target

    return redis_target() is not None


@lru_cache(maxsize=1)
def _limiter_follows() -> bool:
    # Directly after: no middleware in between may read request.user before it is settled.
    stack = [str(m) for m in getattr(settings, "MIDDLEWARE", ())]
    if JWT_MIDDLEWARE not in stack or RATELIMIT_MIDDLEWARE not in stack:
        return False
    return stack.index(RATELIMIT_MIDDLEWARE) == stack.index(JWT_MIDDLEWARE) + 1


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting == "MIDDLEWARE":
        _limiter_follows.cache_clear()
