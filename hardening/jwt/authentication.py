"""DRF authentication classes for bearer tokens.

``BearerTokenAuthentication`` accepts every configured kind (own tokens, Clerk, OIDC),
chosen by the token's ``iss``; the subclasses accept one kind each.  All return
``(user, claims)`` where ``claims`` is a plain dict of verified claims, return None for
other schemes, and raise ``AuthenticationFailed`` (401 with ``WWW-Authenticate: Bearer``)
for a bearer token that does not verify.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, CSRFCheck
from rest_framework.request import Request

from hardening.jwt.auth import authenticate, rejection
from hardening.jwt.parsing import TokenRejected

__all__ = [
    "BearerTokenAuthentication",
    "ClerkAuthentication",
    "OIDCAuthentication",
    "OwnTokenAuthentication",
]

REALM = "api"


def _csrf_ok(request: HttpRequest) -> bool:
    def dummy_get_response(request: HttpRequest) -> Any:  # pragma: no cover
        return None

    check = CSRFCheck(dummy_get_response)
    check.process_request(request)
    return check.process_view(request, None, (), {}) is None  # type: ignore[arg-type]


class BearerTokenAuthentication(BaseAuthentication):
    kinds: ClassVar[frozenset[str] | None] = None
    auth_kind: str | None = None

    def authenticate(self, request: Request) -> tuple[Any, dict[str, Any]] | None:
        django_request = request._request
        try:
            result = authenticate(django_request)
        except TokenRejected as exc:
            raise exceptions.AuthenticationFailed(
                f"The bearer token was rejected ({exc.reason}).", code="invalid_token"
            ) from None
        if result is None:
            return None
        if self.kinds is not None and result.kind not in self.kinds:
            return None
        if result.from_cookie and not _csrf_ok(django_request):
            raise exceptions.PermissionDenied("CSRF check failed.", code="csrf")
        self.auth_kind = result.kind  # read by views that report how the caller logged in
        return result.user, dict(result.claims)

    def authenticate_header(self, request: Request) -> str:
        if rejection(request._request) is not None:
            return f'Bearer realm="{REALM}", error="invalid_token"'
        return f'Bearer realm="{REALM}"'


class OwnTokenAuthentication(BearerTokenAuthentication):
    kinds = frozenset({"jwt"})


class ClerkAuthentication(BearerTokenAuthentication):
    kinds = frozenset({"clerk"})


class OIDCAuthentication(BearerTokenAuthentication):
    kinds = frozenset({"oidc"})
