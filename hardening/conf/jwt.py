"""Settings of own tokens, Clerk, OIDC and the JWKS key store (``hardening.jwt``)."""

from __future__ import annotations

import math
from typing import Any

from hardening.conf.base import BaseSettings, _get

__all__ = ["JWTSettings"]


def _non_negative(name: str, default: float) -> float | None:
    """A number >= 0, or None when the setting is not one (reported by ``hardening.E112``)."""
    value = _get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


class JWTSettings(BaseSettings):
    # -- own tokens (simplejwt) -------------------------------------------------------

    @property
    def HARDENING_JWT_OWN_TOKENS(self) -> bool:
        """Issue and verify the project's own tokens (simplejwt); checks its signing key."""
        return bool(_get("HARDENING_JWT_OWN_TOKENS", True))

    @property
    def HARDENING_JWT_ALGORITHM(self) -> str:
        return str(_get("HARDENING_JWT_ALGORITHM", "RS256" if self.is_production else "HS256"))

    @property
    def HARDENING_JWT_SIGNING_KEY(self) -> str:
        """Private key (PEM) for RS*/ES*/EdDSA, or the shared secret for HS*."""
        return str(_get("HARDENING_JWT_SIGNING_KEY", "") or "")

    @property
    def HARDENING_JWT_VERIFYING_KEY(self) -> str:
        """Public key (PEM) for RS*/ES*/EdDSA; unused for HS*."""
        return str(_get("HARDENING_JWT_VERIFYING_KEY", "") or "")

    # -- Clerk ------------------------------------------------------------------------

    @property
    def HARDENING_CLERK_SECRET_KEY(self) -> str:
        return str(_get("HARDENING_CLERK_SECRET_KEY", "") or "")

    @property
    def HARDENING_CLERK_PUBLISHABLE_KEY(self) -> str:
        return str(_get("HARDENING_CLERK_PUBLISHABLE_KEY", "") or "")

    # -- JWT verification (hardening.jwt) ---------------------------------------------

    @property
    def HARDENING_LOGIN_CHALLENGES(self) -> list[str]:
        """Dotted paths of ``(request, user) -> dict | None`` called by ``POST /api/auth/token``
        after the password is verified; the first non-None result is returned instead of tokens."""
        return list(_get("HARDENING_LOGIN_CHALLENGES", ["hardening.mfa.login.mfa_challenge"]))

    @property
    def HARDENING_JWT_ISSUER(self) -> str:
        """``iss`` of the project's own tokens (always set and always checked)."""
        return str(_get("HARDENING_JWT_ISSUER", "django-hardening") or "django-hardening")

    @property
    def HARDENING_JWT_ACCESS_TOKEN_LIFETIME(self) -> int:
        """Seconds an own access token lives (default 15 minutes)."""
        return int(_get("HARDENING_JWT_ACCESS_TOKEN_LIFETIME", 900))

    @property
    def HARDENING_JWT_REFRESH_TOKEN_LIFETIME(self) -> int:
        """Seconds an own refresh token lives (default 7 days); refresh rotates it."""
        return int(_get("HARDENING_JWT_REFRESH_TOKEN_LIFETIME", 7 * 24 * 3600))

    @property
    def HARDENING_JWT_REVOKE_ACCESS_TOKENS(self) -> bool:
        """Logout (and a replayed refresh token) also revoke access tokens at once: one cache
        read per request. Default: on in production."""
        return bool(_get("HARDENING_JWT_REVOKE_ACCESS_TOKENS", self.is_production))

    @property
    def HARDENING_JWT_LEEWAY(self) -> int:
        """Clock skew tolerated on ``exp``/``nbf``/``iat``, in seconds (default 5)."""
        return int(_get("HARDENING_JWT_LEEWAY", 5))

    @property
    def HARDENING_JWT_VERIFIED_CACHE_SECONDS(self) -> float | None:
        """Seconds a fully verified token is remembered per process (default 60; 0: off;
        never past its ``exp``).  None when the value is not a number >= 0 (memo off)."""
        return _non_negative("HARDENING_JWT_VERIFIED_CACHE_SECONDS", 60)

    @property
    def HARDENING_JWT_VERIFIED_CACHE_SIZE(self) -> int | None:
        """Most verified tokens remembered per process (default 10000; 0: off)."""
        value = _non_negative("HARDENING_JWT_VERIFIED_CACHE_SIZE", 10_000)
        return None if value is None else int(value)

    @property
    def HARDENING_JWT_MAX_TOKEN_BYTES(self) -> int:
        """Tokens longer than this are rejected before any parsing."""
        return int(_get("HARDENING_JWT_MAX_TOKEN_BYTES", 8192))

    @property
    def HARDENING_JWT_MAX_LIFETIME(self) -> int:
        """Longest ``exp - iat`` (and ``exp - now``) accepted from another issuer, in seconds."""
        return int(_get("HARDENING_JWT_MAX_LIFETIME", 24 * 3600))

    @property
    def HARDENING_JWT_USER_MODE(self) -> str:
        """``stateless`` (user built from claims, no DB hit) or ``create`` (get-or-create)."""
        return str(_get("HARDENING_JWT_USER_MODE", "stateless"))

    @property
    def HARDENING_JWT_ISSUERS(self) -> list[dict[str, Any]]:
        """Extra trusted issuers: dicts with ``label``, ``issuer``, ``jwks_url`` or
        ``public_key``, ``algorithms``, ``audience``, ``authorized_parties``..."""
        return [dict(item) for item in _get("HARDENING_JWT_ISSUERS", []) or []]

    @property
    def HARDENING_JWKS_CACHE_TTL(self) -> float:
        return float(_get("HARDENING_JWKS_CACHE_TTL", 300))

    @property
    def HARDENING_JWKS_TIMEOUT(self) -> float:
        """Seconds one JWKS fetch may take (at most 3)."""
        return float(_get("HARDENING_JWKS_TIMEOUT", 2.0))

    @property
    def HARDENING_JWKS_COOLDOWN(self) -> float:
        """Minimum seconds between two fetches caused by unknown ``kid``s or errors."""
        return float(_get("HARDENING_JWKS_COOLDOWN", 30))

    @property
    def HARDENING_JWKS_SHARED_CACHE(self) -> str:
        """Alias in ``CACHES`` that shares fetched JWKS documents between processes ("": off)."""
        return str(_get("HARDENING_JWKS_SHARED_CACHE", "") or "")

    @property
    def HARDENING_JWKS_STALE_TTL(self) -> float:
        """Seconds past the TTL that cached keys keep verifying while the JWKS is down."""
        return float(_get("HARDENING_JWKS_STALE_TTL", 3600))

    @property
    def HARDENING_CLERK_ISSUER(self) -> str:
        return str(_get("HARDENING_CLERK_ISSUER", "") or "").rstrip("/")

    @property
    def HARDENING_CLERK_JWKS_URL(self) -> str:
        return str(_get("HARDENING_CLERK_JWKS_URL", "") or "")

    @property
    def HARDENING_CLERK_JWT_KEY(self) -> str:
        """PEM public key of the Clerk instance: networkless verification."""
        return str(_get("HARDENING_CLERK_JWT_KEY", "") or "")

    @property
    def HARDENING_CLERK_AUTHORIZED_PARTIES(self) -> list[str]:
        return [str(item) for item in _get("HARDENING_CLERK_AUTHORIZED_PARTIES", []) or []]

    @property
    def HARDENING_CLERK_ALLOW_PENDING(self) -> bool:
        """Accept session tokens with ``sts: "pending"`` (default: rejected)."""
        return bool(_get("HARDENING_CLERK_ALLOW_PENDING", False))

    @property
    def HARDENING_CLERK_SESSION_COOKIE(self) -> bool:
        """Also read the ``__session`` cookie (CSRF is then enforced on unsafe methods)."""
        return bool(_get("HARDENING_CLERK_SESSION_COOKIE", False))

    @property
    def HARDENING_OIDC_ISSUER(self) -> str:
        return str(_get("HARDENING_OIDC_ISSUER", "") or "")

    @property
    def HARDENING_OIDC_JWKS_URL(self) -> str:
        return str(_get("HARDENING_OIDC_JWKS_URL", "") or "")

    @property
    def HARDENING_OIDC_AUDIENCE(self) -> str:
        return str(_get("HARDENING_OIDC_AUDIENCE", "") or "")

    @property
    def HARDENING_OIDC_ALGORITHMS(self) -> list[str]:
        return [str(item) for item in _get("HARDENING_OIDC_ALGORITHMS", ["RS256"]) or []]

    @property
    def HARDENING_JWT_BEARER_PATHS(self) -> list[str]:
        """Path prefixes where the JWT middleware sets ``request.user`` from a bearer token.

        Elsewhere (the admin, ``/account/mfa/``, any session view) a bearer token is only
        recorded as ``request.bearer_user`` (rate limits, logs); DRF views still accept it
        through ``BearerTokenAuthentication``."""
        return [str(item) for item in _get("HARDENING_JWT_BEARER_PATHS", ["/api/"]) or []]
