"""The life of the project's own tokens after issue: families, password change, deactivation.

* **Families** (OAuth 2.0 Security BCP, refresh-token rotation): every refresh token carries
  ``fam``, the ``jti`` of the first refresh token of its login, kept across rotations.
  Presenting a refresh token that was already rotated (or logged out) means two parties
  hold it; :func:`reuse_detected` then ends the whole family: a durable
  :class:`~hardening.jwt.models.RevokedTokenFamily` row refuses its refresh tokens, its
  outstanding ones are blacklisted, and with ``HARDENING_JWT_REVOKE_ACCESS_TOKENS`` its
  access tokens are refused too (a cache key read in the same round trip as the ``jti``).
* **Password change**: tokens carry ``pwv``, 64 bits of an HMAC of the user's password
  hash; the user row is loaded on every request anyway (``own_user``) and at refresh, so a
  changed password (``set_password``, a queryset update, an admin form) ends every token of
  the user at no extra round trip.  A ``post_save`` receiver also blacklists the user's
  outstanding refresh tokens when the password changes or the user is deactivated.
* **Deactivation**: ``is_active=False`` refuses access and refresh tokens at once (the user
  row is checked) and blacklists the refresh tokens, so reactivating does not revive them.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import jwt
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models.signals import post_save
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from hardening.conf import conf
from hardening.observability.audit import audit
from hardening.observability.metrics import AUTH_FAILURES

__all__ = [
    "FAMILY_PREFIX",
    "connect",
    "family_revoked",
    "password_fingerprint",
    "password_unchanged",
    "reuse_detected",
    "revoke_user_refresh_tokens",
]

logger = logging.getLogger("hardening.jwt")

FAMILY_PREFIX = "hardening:jwt:revoked-family:"


def password_fingerprint(user: Any) -> str | None:
    """16 hex characters derived from the user's password hash (None: no password field)."""
    password = getattr(user, "password", None)
    if not isinstance(password, str):
        return None
    return salted_hmac("hardening.jwt.pwv", password, algorithm="sha256").hexdigest()[:16]


def password_unchanged(claims: Any, user: Any) -> bool:
    """False when the token was issued before the user's password last changed."""
    claimed = claims.get("pwv") if hasattr(claims, "get") else None
    if claimed is None:
        return True  # a token issued before pwv existed; it expires on its own
    current = password_fingerprint(user)
    return current is None or constant_time_compare(str(claimed), current)


def family_revoked(family: Any) -> bool:
    from hardening.jwt.models import RevokedTokenFamily

    return bool(family) and RevokedTokenFamily.objects.filter(family=str(family)).exists()


def _outstanding(user_id: Any) -> Any:
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    return OutstandingToken.objects.filter(
        user_id=user_id, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )


def _blacklist(tokens: list[Any]) -> int:
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=t) for t in tokens], ignore_conflicts=True
    )
    return len(tokens)


def _family_of(raw: str) -> str | None:
    try:
        payload = jwt.decode(raw, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    return str(payload.get("fam") or payload.get("jti") or "") or None


def reuse_detected(request: HttpRequest | None, payload: Any) -> None:
    """A rotated (blacklisted) refresh token was presented: end its whole family."""
    from hardening.jwt.models import RevokedTokenFamily
    from hardening.jwt.simplejwt import blacklist_installed

    family = str(payload.get("fam") or payload.get("jti") or "")
    user_id = str(payload.get("user_id") or "")
    if not family:
        return
    lifetime = conf.HARDENING_JWT_REFRESH_TOKEN_LIFETIME + conf.HARDENING_JWT_LEEWAY
    RevokedTokenFamily.objects.filter(expires_at__lte=timezone.now()).delete()  # housekeeping
    RevokedTokenFamily.objects.get_or_create(
        family=family,
        defaults={"user_id": user_id, "expires_at": timezone.now() + timedelta(seconds=lifetime)},
    )
    ended = 0
    if blacklist_installed() and user_id:
        ended = _blacklist([t for t in _outstanding(user_id) if _family_of(t.token) == family])
    if conf.HARDENING_JWT_REVOKE_ACCESS_TOKENS:
        ttl = conf.HARDENING_JWT_ACCESS_TOKEN_LIFETIME + conf.HARDENING_JWT_LEEWAY
        try:
            cache.set(FAMILY_PREFIX + family, 1, ttl)
        except Exception:  # the refresh side is durable; access tokens expire soon anyway
            logger.exception("could not record the revoked token family in the cache")
    AUTH_FAILURES.labels(reason="refresh_reused").inc()
    audit("token.reuse_detected", request=request, user_id=user_id, ended=ended)


def revoke_user_refresh_tokens(user: Any) -> int:
    """Blacklist every outstanding refresh token of ``user``; returns how many."""
    from hardening.jwt.simplejwt import blacklist_installed

    if not blacklist_installed() or user.pk is None:
        return 0
    return _blacklist(list(_outstanding(user.pk)))


def _user_saved(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if created:
        return
    changed_password = getattr(instance, "_password", None) is not None  # set_password()
    if changed_password or not getattr(instance, "is_active", True):
        ended = revoke_user_refresh_tokens(instance)
        if ended:
            reason = "password_changed" if changed_password else "deactivated"
            audit("token.revoked", user_id=str(instance.pk), reason=reason, refresh=ended)


def connect() -> None:
    """Called by ``HardeningConfig.ready()``; idempotent (``dispatch_uid``)."""
    post_save.connect(
        _user_saved, sender=get_user_model(), dispatch_uid="hardening.jwt.lifecycle.user_saved"
    )
