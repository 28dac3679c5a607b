"""Stand-in DRF authentication, used only while the example project has no hardening JWT
authentication class yet (a loud warning says so): it runs hardening's own structural
parse and external-issuer verification (cached JWKS) and builds a stateless user."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from hardening.jwt.issuers import issuer_for
from hardening.jwt.jws import TokenRejected, parse
from hardening.jwt.verify import verify_external


class StatelessUser:
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, claims: dict[str, Any]) -> None:
        self.pk = self.id = claims["sub"]
        self.claims = claims


class StandInJWTAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[StatelessUser, dict[str, Any]] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw:
            return None
        try:
            parsed = parse(raw.strip())
            issuer = issuer_for(str(parsed.payload.get("iss", "")))
            if issuer is None:
                raise TokenRejected("unknown_issuer")
            claims = verify_external(parsed, issuer)
        except TokenRejected as exc:
            raise AuthenticationFailed(exc.reason, code=exc.reason) from None
        return StatelessUser(claims), claims

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
