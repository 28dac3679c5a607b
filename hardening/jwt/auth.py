"""One bearer-token authentication path, used by the middleware and the DRF classes.

:func:`authenticate` verifies a request's token at most once: the outcome goes into
``request.hardening`` (:func:`~hardening.request.state`: ``bearer``, ``credential_error``),
so the middleware and a DRF class after it never verify twice, and a rejection is counted
and audited exactly once.

**The middleware** (:class:`CredentialMiddleware`; after Django's
``AuthenticationMiddleware``, before the rate limits) verifies a bearer token on every path
and records its user (``state(request).bearer_user``: rate limits and logs key on it).  Only
on ``HARDENING_API_PATHS`` does a valid token also become ``request.user`` and
``state(request).credential``: the admin and every session view need a session login
(docs/security.md, the authentication boundary).  An invalid token on an API path makes
``request.user`` anonymous; DRF views answer 401, plain Django views see an anonymous user.

**API keys** take the same middleware path (:func:`process`), through
:func:`hardening.apikeys.auth.authenticate`, into the same fields.

**The DRF classes** (:class:`BearerTokenAuthentication` and one per kind) return
``(user, claims)``, None for another scheme, and raise ``AuthenticationFailed`` (401 with
``WWW-Authenticate: Bearer``) for a bearer token that does not verify.

**Revocation in the limiter's round trip.**  When the rate-limit middleware directly follows
this one, rate limits are on and ``HARDENING_CACHE`` is Redis, the revocation lookup of an
own access token is left *pending* (``state(request).revocation_pending``) for the limiter's
script; :func:`settle_revocation` settles it before the view: with the limiter's answer, or
by the direct cache read wherever the limiter did not carry it.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, ClassVar

from asgiref.sync import sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from jwt.exceptions import InvalidKeyError
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, CSRFCheck
from rest_framework.request import Request

from hardening.access import bearer_token
from hardening.apikeys import auth as apikeys
from hardening.apikeys.keys import KeyRejected
from hardening.conf.core import api_path
from hardening.conf.core import middleware as installed_middleware
from hardening.jwt.conf import conf
from hardening.jwt.issuers import external_user, reads_session_cookie
from hardening.jwt.jws import TokenRejected
from hardening.jwt.tokens import check_not_revoked, own_user, revocation_keys
from hardening.jwt.verify import verify
from hardening.observability.audit import audit
from hardening.observability.metrics import AUTH_FAILURES
from hardening.request import Credential, HardeningMiddleware, state

logger = logging.getLogger("hardening.jwt")

JWT_MIDDLEWARE = "hardening.middleware.CredentialMiddleware"
RATELIMIT_MIDDLEWARE = "hardening.middleware.RateLimitMiddleware"
CLERK_COOKIE = "__session"
REALM = "api"


def _token(request: HttpRequest) -> tuple[str, bool] | None:
    """``(token, from_cookie)``, or None when the request carries no bearer token.

    The ``Authorization`` header is read by :func:`hardening.access.bearer_token` (scheme
    case-insensitive; another scheme is not ours); ``Bearer`` without a token is malformed.
    Clerk's ``__session`` cookie is read only for an issuer with ``"session_cookie": True``."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        raw = bearer_token(request)
        if raw is None and header.split(None, 1)[0].lower() == "bearer":
            raise TokenRejected("malformed")
        return None if raw is None else (raw, False)
    cookie = request.COOKIES.get(CLERK_COOKIE)
    if cookie and reads_session_cookie():
        return cookie, True
    return None


def verify_token(
    raw: str, *, from_cookie: bool = False, defer_revocation: bool = False
) -> tuple[dict[str, Any], Any, str]:
    """``(claims, user, kind)`` for a raw token, or :class:`TokenRejected`: the verified
    claims (:func:`hardening.jwt.verify.verify`), then what is checked on every request,
    memo or not: the user and, for own access tokens, the revocation lookup (left to the
    caller with ``defer_revocation``)."""
    found = verify(raw, from_cookie=from_cookie)
    if found.issuer is not None:
        return found.claims, external_user(found.claims, found.issuer), found.kind
    if not defer_revocation:
        check_not_revoked(found.claims)
    return found.claims, own_user(found.claims), found.kind


def authenticate(request: HttpRequest, *, defer_revocation: bool = False) -> Credential | None:
    """The verified bearer credential of ``request`` (None: no bearer token), once per
    request; raise :class:`TokenRejected` when it is invalid.

    ``defer_revocation`` (the middleware): leave the revocation lookup pending for the rate
    limiter when it can carry it (:func:`deferrable`).  Any other caller settles a pending
    lookup first, so nothing ever sees an unchecked token."""
    if apikeys.may_have_key(request):
        return None  # an API key is hardening.apikeys.auth's (one credential per request)
    found = state(request)
    if found.revocation_pending is not None:
        settle_revocation(request)
    if found.credential_error is not None:
        raise found.credential_error
    if found.bearer is not None:
        return found.bearer
    try:
        token = _token(request)
        if token is None:
            return None
        defer = defer_revocation and deferrable()
        try:
            claims, user, kind = verify_token(
                token[0], from_cookie=token[1], defer_revocation=defer
            )
        except InvalidKeyError:
            # HS* configured with a PEM key (hardening.E027): a server problem, never a 500.
            logger.error("The JWT signing key cannot be used with its algorithm (E027).")
            raise TokenRejected("signature", "jwt") from None
        except (ValueError, TypeError, OverflowError, KeyError):
            # Exotic claim values (an integer too large for a float): bad input, not a 500.
            raise TokenRejected("claim_type") from None
    except TokenRejected as exc:
        found.credential_error = exc
        _reject(request, exc)
        raise
    found.bearer = Credential(kind, user, claims)
    if defer and kind == "jwt":
        found.revocation_pending = revocation_keys(claims)
    return found.bearer


def _reject(request: HttpRequest, exc: TokenRejected) -> None:
    AUTH_FAILURES.labels(reason=exc.reason).inc()
    audit("token.rejected", request=request, reason=exc.reason, kind=exc.kind)


def settle_revocation(request: HttpRequest, revoked: bool | None = None) -> None:
    """Settle a pending revocation lookup: ``revoked`` is the limiter's answer, None = it did
    not carry it (the direct cache read, as without deferral).  A revoked token becomes the
    request's rejection, exactly as if :func:`authenticate` had refused it."""
    found = state(request)
    if found.revocation_pending is None:
        return
    found.revocation_pending = None
    if found.bearer is None:
        return
    exc = TokenRejected("revoked", "jwt") if revoked else None
    if revoked is None:
        try:
            check_not_revoked(dict(found.bearer.claims))
        except TokenRejected as refused:
            exc = refused
    if exc is not None:
        found.credential_error, found.bearer, found.credential = exc, None, None
        if api_path(request.path_info):  # as the middleware does for a rejection
            request.user = AnonymousUser()
        _reject(request, exc)  # audited as other rejections: not as the token's user


def deferrable() -> bool:
    """Can the rate limiter carry the revocation lookup of this request's token?"""
    from hardening.ratelimit.conf import conf as ratelimit

    if not (conf.HARDENING_JWT_REVOKE_ACCESS_TOKENS and ratelimit.HARDENING_RATELIMIT_ENABLED):
        return False
    if not _limiter_follows():
        return False
    from hardening.ratelimit.limiter import redis_target

    return redis_target() is not None


@functools.cache
def _limiter_follows() -> bool:
    # Directly after: no middleware in between may read request.user before it is settled.
    stack = list(installed_middleware())
    if JWT_MIDDLEWARE not in stack or RATELIMIT_MIDDLEWARE not in stack:
        return False
    return stack.index(RATELIMIT_MIDDLEWARE) == stack.index(JWT_MIDDLEWARE) + 1


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting == "MIDDLEWARE":
        _limiter_follows.cache_clear()


# -- the middleware ----------------------------------------------------------------------


def _may_have_token(request: HttpRequest) -> bool:
    """Cheap pre-test so requests without a token or key never leave the event loop."""
    if request.META.get("HTTP_AUTHORIZATION") or apikeys.may_have_key(request):
        return True
    return CLERK_COOKIE in request.COOKIES and reads_session_cookie()


def process(request: HttpRequest) -> None:
    api = api_path(request.path_info)
    try:
        if apikeys.may_have_key(request):
            credential = apikeys.authenticate(request)
        else:
            credential = authenticate(request, defer_revocation=True)  # settled by the limiter
    except (TokenRejected, KeyRejected):
        if api:
            request.user = AnonymousUser()
        return
    if credential is not None and api:
        request.user = credential.user
        state(request).credential = credential


class CredentialMiddleware(HardeningMiddleware):
    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        if _may_have_token(request):
            process(request)
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if _may_have_token(request):
            # Verification may fetch a JWKS or read the user: never on the event loop.
            await sync_to_async(process)(request)
        response: HttpResponseBase = await self.get_response(request)
        return response


# -- DRF ---------------------------------------------------------------------------------


def _csrf_ok(request: HttpRequest) -> bool:
    def dummy_get_response(request: HttpRequest) -> Any:  # pragma: no cover
        return None

    check = CSRFCheck(dummy_get_response)
    check.process_request(request)
    return check.process_view(request, None, (), {}) is None  # type: ignore[arg-type]


class BearerTokenAuthentication(BaseAuthentication):
    """Every configured kind (own tokens, each issuer), chosen by the token's ``iss``; the
    subclasses accept one kind each.  ``request.auth`` is a plain dict of verified claims,
    and ``state(request).credential.kind`` says which kind authenticated the request."""

    kinds: ClassVar[frozenset[str] | None] = None

    def authenticate(self, request: Request) -> tuple[Any, dict[str, Any]] | None:
        django_request = request._request
        try:
            credential = authenticate(django_request)
        except TokenRejected as exc:
            raise exceptions.AuthenticationFailed(
                f"The bearer token was rejected ({exc.reason}).", code="invalid_token"
            ) from None
        if credential is None or (self.kinds is not None and credential.kind not in self.kinds):
            return None
        from_cookie = not django_request.META.get("HTTP_AUTHORIZATION")
        if from_cookie and not _csrf_ok(django_request):
            raise exceptions.PermissionDenied("CSRF check failed.", code="csrf")
        state(django_request).credential = credential
        return credential.user, dict(credential.claims)

    def authenticate_header(self, request: Request) -> str:
        if apikeys.sent_key(request):  # the first class's challenge is DRF's: name the scheme
            return apikeys.challenge(request)
        if state(request).credential_error is not None:
            return f'Bearer realm="{REALM}", error="invalid_token"'
        return f'Bearer realm="{REALM}"'


class OwnTokenAuthentication(BearerTokenAuthentication):
    kinds = frozenset({"jwt"})


class ClerkAuthentication(BearerTokenAuthentication):
    kinds = frozenset({"clerk"})


class ClerkMachineAuthentication(BearerTokenAuthentication):
    kinds = frozenset({"clerk_machine"})


class OIDCAuthentication(BearerTokenAuthentication):
    kinds = frozenset({"oidc"})
