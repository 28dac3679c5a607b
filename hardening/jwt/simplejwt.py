"""simplejwt token classes configured from ``HARDENING_JWT_*`` on every use.

Imported lazily (by :mod:`hardening.jwt.tokens` and the views): simplejwt's ``settings``
module reads ``SECRET_KEY`` at import time, which must not happen before hardening's system
checks have had the chance to report a missing key.

simplejwt builds its token backend and lifetimes from ``SIMPLE_JWT`` at import time (its
issue #58), so ``override_settings`` does not reach them.  Here lifetimes are properties and
the backend comes from a small cache keyed by the settings it is built from.  Blacklisting is
implemented here too: simplejwt enables it only when the literal app path is in
``INSTALLED_APPS``, and hardening installs it through its own app config.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from django.apps import apps
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, Token
from rest_framework_simplejwt.utils import datetime_from_epoch

from hardening.conf import conf

__all__ = [
    "HardeningAccessToken",
    "HardeningRefreshToken",
    "TokenReused",
    "blacklist_installed",
    "token_backend",
]

BLACKLIST_APP = "rest_framework_simplejwt.token_blacklist"


def blacklist_installed() -> bool:
    return apps.is_installed(BLACKLIST_APP)


@functools.lru_cache(maxsize=8)
def _backend(algorithm: str, signing_key: str, verifying_key: str, issuer: str) -> TokenBackend:
    return TokenBackend(
        algorithm, signing_key=signing_key, verifying_key=verifying_key, issuer=issuer, leeway=0
    )


def token_backend() -> TokenBackend:
    """simplejwt's ``TokenBackend`` for the current ``HARDENING_JWT_*`` settings."""
    algorithm = conf.HARDENING_JWT_ALGORITHM
    signing = conf.HARDENING_JWT_SIGNING_KEY
    verifying = signing if algorithm.startswith("HS") else conf.HARDENING_JWT_VERIFYING_KEY
    return _backend(algorithm, signing, verifying, conf.HARDENING_JWT_ISSUER)


class TokenReused(TokenError):
    """A validly signed refresh token that was already rotated or logged out."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__("Token is blacklisted")
        self.payload = payload


class HardeningAccessToken(AccessToken):
    @property
    def lifetime(self) -> timedelta:  # type: ignore[override]
        return timedelta(seconds=conf.HARDENING_JWT_ACCESS_TOKEN_LIFETIME)

    @property
    def token_backend(self) -> TokenBackend:
        return token_backend()


class HardeningRefreshToken(Token):
    """A refresh token with outstanding/blacklist records (simplejwt's blacklist models)."""

    token_type = "refresh"  # noqa: S105 - a token kind, not a secret

    @property
    def lifetime(self) -> timedelta:  # type: ignore[override]
        return timedelta(seconds=conf.HARDENING_JWT_REFRESH_TOKEN_LIFETIME)

    @property
    def token_backend(self) -> TokenBackend:
        return token_backend()

    def verify(self, *args: Any, **kwargs: Any) -> None:
        if (
            blacklist_installed()
            and BlacklistedToken.objects.filter(
                token__jti=self.payload[api_settings.JTI_CLAIM]
            ).exists()
        ):
            raise TokenReused(dict(self.payload))
        super().verify(*args, **kwargs)

    def _outstanding(self, user: Any) -> Any:
        outstanding, _ = OutstandingToken.objects.get_or_create(
            jti=self.payload[api_settings.JTI_CLAIM],
            defaults={
                "user": user,
                "created_at": self.current_time,
                "token": str(self),
                "expires_at": datetime_from_epoch(self.payload["exp"]),
            },
        )
        return outstanding

    def record_outstanding(self, user: Any) -> None:
        if blacklist_installed():
            self._outstanding(user)

    def blacklist(self, user: Any = None) -> bool:
        """Blacklist this token; True when this call did it (False: already blacklisted)."""
        _, created = BlacklistedToken.objects.get_or_create(token=self._outstanding(user))
        return bool(created)

    def access_token(self) -> HardeningAccessToken:
        access = HardeningAccessToken()
        access.set_exp(from_time=self.current_time)
        for claim, value in self.payload.items():
            if claim not in ("token_type", "exp", "jti", "iat", api_settings.JTI_CLAIM):
                access[claim] = value
        return access
