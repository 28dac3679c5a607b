"""One bearer-token authentication path shared by the middleware and the DRF classes.

:func:`authenticate` verifies at most once per request: the outcome (a result, None, or
the rejection) is stored on the Django request, so the middleware and the DRF class after
it never verify twice, and a rejection is counted and audited exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from jwt.exceptions import InvalidKeyError

from hardening.conf import conf
from hardening.jwt.config import CLERK_MACHINE_PREFIXES, issuer_for
from hardening.jwt.jwks import KeyLookupError, KeyStore, store_for
from hardening.jwt.memo import replay, verified_memo
from hardening.jwt.parsing import TokenRejected, parse
from hardening.jwt.tokens import verify_own
from hardening.jwt.users import external_user, own_user
from hardening.jwt.verifier import verify_external
from hardening.observability.audit import audit
from hardening.observability.metrics import AUTH_FAILURES

__all__ = ["AuthResult", "authenticate", "bearer_token", "verify_token"]

logger = logging.getLogger("hardening.jwt")

RESULT_ATTR = "_hardening_jwt_result"
KIND_ATTR = "hardening_auth_kind"
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


def verify_token(raw: str, *, clerk_only: bool = False) -> tuple[dict[str, Any], Any, str]:
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
            return replay(memo, digest, entry)
    parsed = parse(raw, max_bytes=conf.HARDENING_JWT_MAX_TOKEN_BYTES)
    iss = parsed.payload.get("iss")
    if not isinstance(iss, str) or not iss:
        raise TokenRejected("missing_claim")
    if not clerk_only and conf.HARDENING_JWT_OWN_TOKENS and iss == conf.HARDENING_JWT_ISSUER:
        claims = verify_own(parsed)
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


def authenticate(request: HttpRequest) -> AuthResult | None:
    """Verify the request's bearer token once; raise :class:`TokenRejected` when invalid."""
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
            try:
                claims, user, kind = verify_token(raw, clerk_only=from_cookie)
            except InvalidKeyError:
                # HS* configured with a PEM key (hardening.E027): a server problem, never a 500.
                logger.error("The JWT signing key cannot be used with its algorithm (E027).")
                raise TokenRejected("signature", "jwt") from None
            except (ValueError, TypeError, OverflowError, KeyError):
                # Exotic claim values (an integer too large for a float): bad input, not a 500.
                raise TokenRejected("claim_type") from None
            result = AuthResult(user, claims, kind, from_cookie)
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
