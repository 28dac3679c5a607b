"""Bearer-token authentication for API paths (sync and async stacks).

Place it after ``AuthenticationMiddleware`` and before the rate-limit middleware.  A bearer
token is verified at most once per request, on every path, and its user recorded as
``request.bearer_user`` (rate limits and logs key on it).  Only on
``HARDENING_JWT_BEARER_PATHS`` (default ``/api/``) does a valid token also become
``request.user`` with ``request.auth_claims``: the admin and every other session view never
accept a bearer token, they need a session login (docs/security.md, the authentication
boundary).  DRF views anywhere still authenticate bearer tokens through
:class:`~hardening.jwt.authentication.BearerTokenAuthentication`, which reuses the outcome
stored on the request instead of verifying again.  An invalid token on an API path sets
``request.user`` to ``AnonymousUser`` and does not answer here: DRF views answer 401 and
plain Django views see an anonymous user (``login_required`` etc. apply).
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponseBase

from hardening.conf import conf
from hardening.jwt.auth import CLERK_COOKIE, authenticate
from hardening.jwt.parsing import TokenRejected
from hardening.request import HardeningMiddleware

__all__ = ["BEARER_USER_ATTR", "JWTAuthenticationMiddleware", "is_bearer_path"]

#: The request attribute holding the verified bearer user on every path.
BEARER_USER_ATTR = "bearer_user"


def _may_have_token(request: HttpRequest) -> bool:
    """Cheap pre-test so requests without a token never leave the event loop."""
    if request.META.get("HTTP_AUTHORIZATION"):
        return True
    return conf.HARDENING_CLERK_SESSION_COOKIE and CLERK_COOKIE in request.COOKIES


def is_bearer_path(path: str) -> bool:
    """Does a bearer token authenticate ``request.user`` on ``path``?"""
    return any(path.startswith(prefix) for prefix in conf.HARDENING_JWT_BEARER_PATHS)


def process(request: HttpRequest) -> None:
    api = is_bearer_path(request.path_info)
    try:
        result = authenticate(request, defer_revocation=True)  # settled by the limiter
    except TokenRejected:
        if api:
            request.user = AnonymousUser()
        return
    if result is None:
        return
    setattr(request, BEARER_USER_ATTR, result.user)
    if api:
        request.user = result.user
        request.auth_claims = result.claims  # type: ignore[attr-defined]


class JWTAuthenticationMiddleware(HardeningMiddleware):
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
