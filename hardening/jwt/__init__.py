"""Token verification: the project's own tokens (simplejwt), Clerk and any OIDC provider.

Import the pieces from their modules (``hardening.jwt.tokens``, ``.authentication``,
``.middleware``, ``.status``); this package module stays import-safe from a settings file.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

__all__ = ["simplejwt_settings"]


def simplejwt_settings(
    *,
    algorithm: str,
    signing_key: str,
    verifying_key: str = "",
    issuer: str = "django-hardening",
    access_seconds: int = 900,
    refresh_seconds: int = 7 * 24 * 3600,
) -> dict[str, Any]:
    """A ``SIMPLE_JWT`` dict matching hardening's own-token settings, for code that still
    uses simplejwt's own classes or views.  hardening itself never reads ``SIMPLE_JWT``::

        SIMPLE_JWT = simplejwt_settings(
            algorithm=HARDENING_JWT_ALGORITHM, signing_key=HARDENING_JWT_SIGNING_KEY
        )
    """
    return {
        "ALGORITHM": algorithm,
        "SIGNING_KEY": signing_key,
        "VERIFYING_KEY": verifying_key if not algorithm.startswith("HS") else "",
        "ISSUER": issuer,
        "ACCESS_TOKEN_LIFETIME": timedelta(seconds=access_seconds),
        "REFRESH_TOKEN_LIFETIME": timedelta(seconds=refresh_seconds),
        "ROTATE_REFRESH_TOKENS": True,
        "BLACKLIST_AFTER_ROTATION": True,
        "UPDATE_LAST_LOGIN": False,
        "LEEWAY": 5,
        "AUTH_HEADER_TYPES": ("Bearer",),
    }
