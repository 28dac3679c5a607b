"""DRF authentication classes: bearer tokens checked with the same verifiers as the
middleware (the project's own tokens, Clerk, any OIDC issuer of ``HARDENING_JWT_ISSUERS``),
and API keys (``ApiKeyAuthentication``: ``Authorization: Api-Key <key>`` or ``X-API-Key``).

``BearerTokenAuthentication`` accepts every configured kind; the others accept one kind
each.  They return ``None`` for another ``Authorization`` scheme, answer 401 with
``WWW-Authenticate: Bearer`` for a bad token, and reuse the middleware's result when it
already verified the request's token.  ``hardening.env.rest_framework_settings()`` puts
``BearerTokenAuthentication`` first and ``ApiKeyAuthentication`` second.
"""

from __future__ import annotations

from hardening.apikeys.auth import ApiKeyAuthentication
from hardening.jwt.auth import (
    BearerTokenAuthentication,
    ClerkAuthentication,
    ClerkMachineAuthentication,
    OIDCAuthentication,
    OwnTokenAuthentication,
)

__all__ = [
    "ApiKeyAuthentication",
    "BearerTokenAuthentication",
    "ClerkAuthentication",
    "ClerkMachineAuthentication",
    "OIDCAuthentication",
    "OwnTokenAuthentication",
]
