"""Bearer-token authentication for every view (sync and async stacks).

Place it after ``AuthenticationMiddleware`` and before the rate-limit middleware: a valid
bearer token sets ``request.user`` (so limits can key on the user), ``request.auth_claims``
and ``request.hardening_auth_kind``.  An invalid token sets ``request.user`` to
``AnonymousUser`` and does not answer here: DRF views answer 401 through
:class:`~hardening.jwt.authentication.BearerTokenAuthentication`, which reuses the
outcome stored on the request instead of verifying again, and plain Django views see an
anonymous user (``login_required`` etc. apply).
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponseBase

from hardening.conf import conf
from hardening.jwt.auth import CLERK_COOKIE, authenticate
from hardening.jwt.parsing import TokenRejected
from hardening.middleware import HardeningMiddleware

__all__ = ["JWTAuthenticationMiddleware"]


def _may_have_token(request: HttpRequest) -> bool:
    """Cheap pre-test so requests without a token never leave the event loop."""
    if request.META.get("HTTP_AUTHORIZATION"):
        return True
    return conf.HARDENING_CLERK_SESSION_COOKIE and CLERK_COOKIE in request.COOKIES


def process(request: HttpRequest) -> None:
    try:
        result = authenticate(request)
    except TokenRejected:
        request.user = AnonymousUser()
        return
    if result is not None:
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
