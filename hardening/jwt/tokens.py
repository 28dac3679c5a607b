"""The project's own tokens: issued and encoded with simplejwt, configured by hardening, and
their life after issue (OAuth 2.0 Security BCP: refresh-token rotation with reuse detection).

* **Families**: a login starts a family (:class:`~hardening.jwt.models.TokenFamily`); every
  refresh token carries ``fam`` and the row names the one refresh token that may be
  refreshed.  A refresh replaces it with one conditional UPDATE, so of two refreshes of the
  same token exactly one wins.  Presenting any other refresh token of the family (rotated,
  logged out, raced) is reuse: the family ends, and with ``HARDENING_JWT_REVOKE_ACCESS_TOKENS``
  its access tokens are refused too (a cache key read with the token's own ``jti``).
* **Password change**: tokens carry ``pwv``, 64 bits of an HMAC of the password hash,
  checked where the user row is loaded anyway (every request, :func:`own_user`, and each
  refresh), so any password change ends the user's tokens at no extra round trip; a
  ``post_save`` receiver also ends the user's families.
* **Deactivation**: ``is_active=False`` refuses access and refresh tokens at once and ends the
  families, so reactivating does not revive them.

simplejwt reads ``SIMPLE_JWT`` and ``SECRET_KEY`` at import time (its issue #58): its
classes are imported late here, and read ``HARDENING_JWT_*`` on every use.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db.models.signals import post_save
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare, salted_hmac
from jwt.exceptions import InvalidKeyError

from hardening import clock
from hardening.breaker import GuardedCache
from hardening.conf import conf as core
from hardening.jwt.conf import LEEWAY, conf
from hardening.jwt.jws import TokenRejected, parse
from hardening.jwt.models import TokenFamily
from hardening.jwt.ownkeys import signing_kid, token_backend
from hardening.jwt.verify import verify_own
from hardening.observability.audit import audit
from hardening.observability.metrics import AUTH_FAILURES, REVOCATION_UNCHECKED
from hardening.outage import is_outage

logger = logging.getLogger("hardening.jwt")

REVOKED_PREFIX = "hardening:jwt:revoked:"
FAMILY_PREFIX = "hardening:jwt:revoked-family:"


def _when(timestamp: float) -> datetime:  # a time of the clock seam, for the database
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


@functools.cache
def token_classes() -> tuple[type[Any], type[Any]]:
    """``(access, refresh)``: simplejwt token classes with hardening's lifetimes and keys."""
    from rest_framework_simplejwt.tokens import Token

    class Configured(Token):
        setting = ""

        @property
        def lifetime(self) -> timedelta:  # type: ignore[override]
            return timedelta(seconds=getattr(conf, self.setting))

        @property
        def token_backend(self) -> Any:
            key, kid = conf.HARDENING_JWT_SIGNING_KEY, signing_kid()
            return token_backend(conf.HARDENING_JWT_ALGORITHM, key, kid)

    class Access(Configured):
        token_type = "access"  # noqa: S105 - a token kind, not a secret
        setting = "HARDENING_JWT_ACCESS_TOKEN_LIFETIME"

    class Refresh(Configured):
        token_type = "refresh"  # noqa: S105
        setting = "HARDENING_JWT_REFRESH_TOKEN_LIFETIME"

    return Access, Refresh


def _pair(user: Any, amr: list[str], auth_time: int, family: str | None) -> tuple[Any, Any]:
    access_class, refresh_class = token_classes()
    now = _when(clock.now())  # the clock seam, as every check of these tokens
    refresh, access = refresh_class(), access_class()
    for token in (refresh, access):
        token.set_iat(at_time=now)
        token.set_exp(from_time=now)
    refresh["user_id"] = str(user.pk)
    refresh["amr"] = list(amr)
    refresh["auth_time"] = int(auth_time)
    refresh["fam"] = family or str(refresh["jti"])
    fingerprint = password_fingerprint(user)
    if fingerprint is not None:
        refresh["pwv"] = fingerprint
    for claim, value in refresh.payload.items():
        if claim not in ("token_type", "exp", "jti", "iat"):
            access[claim] = value
    return access, refresh


def issue_token_pair(user: Any, *, amr: list[str], auth_time: int | None = None) -> dict[str, str]:
    """A new ``{"access", "refresh"}`` pair for ``user``: a new login, a new family.  Both
    carry ``amr`` (e.g. ``["pwd", "otp"]``) and ``auth_time``, kept across refreshes."""
    now = clock.now()
    access, refresh = _pair(user, amr, int(now) if auth_time is None else auth_time, None)
    TokenFamily.objects.filter(expires_at__lte=_when(now)).delete()  # housekeeping
    TokenFamily.objects.create(
        family=refresh["fam"],
        user_id=str(user.pk),
        current_jti=str(refresh["jti"]),
        expires_at=_when(refresh["exp"]),
    )
    return {"access": str(access), "refresh": str(refresh)}


def _decode_refresh(raw: str) -> dict[str, Any] | None:
    """The verified claims of an own refresh token (the access tokens' checks), or None."""
    try:
        return verify_own(parse(raw), "refresh")
    except (TokenRejected, InvalidKeyError, ValueError, TypeError, OverflowError):
        return None


def rotate(request: HttpRequest, raw: str) -> dict[str, str] | None:
    """Refresh: a new pair in the same family for the family's current refresh token, else
    None (and reuse, when the token is an older one of a known family)."""
    old = _decode_refresh(raw)
    if old is None:
        return None
    family, jti = str(old.get("fam") or old["jti"]), str(old["jti"])
    user = get_user_model()._default_manager.filter(pk=old.get("user_id")).first()
    if user is not None and user.is_active and password_unchanged(old, user):
        amr = old.get("amr")
        amr = [str(m) for m in amr] if isinstance(amr, list) else ["pwd"]
        access, refresh = _pair(user, amr, old.get("auth_time") or int(clock.now()), family)
        rotated = TokenFamily.objects.filter(family=family, current_jti=jti, ended_at=None).update(
            current_jti=str(refresh["jti"]), expires_at=_when(refresh["exp"])
        )
        if rotated:
            audit("token.issued", request=request, user_id=str(user.pk), via="refresh")
            return {"access": str(access), "refresh": str(refresh)}
    _refused(request, family, jti, old)
    return None


def logout(request: HttpRequest, raw: str, access_claims: Any = None) -> bool:
    """End the family of the refresh token ``raw`` (False: not a current refresh token) and,
    with ``HARDENING_JWT_REVOKE_ACCESS_TOKENS``, the own access token ``access_claims``."""
    old = _decode_refresh(raw)
    if old is None:
        return False
    family, jti = str(old.get("fam") or old["jti"]), str(old["jti"])
    ended = TokenFamily.objects.filter(family=family, current_jti=jti, ended_at=None).update(
        ended_at=_when(clock.now()), end_reason="logout"
    )
    if not ended and _refused(request, family, jti, old):
        return False
    if conf.HARDENING_JWT_REVOKE_ACCESS_TOKENS and access_claims is not None:
        revoke_access_token(access_claims)
    audit("token.revoked", request=request, user_id=str(old.get("user_id")))
    return True


def _refused(request: HttpRequest, family: str, jti: str, payload: Any) -> bool:
    """Not the family's current refresh token: reuse (True) when the family is known."""
    if not TokenFamily.objects.filter(family=family).exists():
        return False
    reuse_detected(request, payload)
    return True


def reuse_detected(request: HttpRequest | None, payload: Any) -> None:
    """A refresh token that was rotated (or logged out) was presented again: two parties
    hold it, so its whole family ends."""
    family = str(payload.get("fam") or payload.get("jti") or "")
    user_id = str(payload.get("user_id") or "")
    ended = TokenFamily.objects.filter(family=family, ended_at=None).update(
        ended_at=_when(clock.now()), end_reason="reuse"
    )
    if conf.HARDENING_JWT_REVOKE_ACCESS_TOKENS:
        ttl = conf.HARDENING_JWT_ACCESS_TOKEN_LIFETIME + LEEWAY
        try:
            caches[core.HARDENING_CACHE].set(FAMILY_PREFIX + family, 1, ttl)
        except Exception:  # the refresh side is durable; access tokens expire soon anyway
            logger.exception("could not record the revoked token family in the cache")
    AUTH_FAILURES.labels(reason="refresh_reused").inc()
    audit("token.reuse_detected", request=request, user_id=user_id, ended=ended)


def end_user_families(user: Any, reason: str) -> int:
    """End every live family of ``user``; returns how many."""
    now = _when(clock.now())
    return int(
        TokenFamily.objects.filter(user_id=str(user.pk), ended_at=None, expires_at__gt=now).update(
            ended_at=now, end_reason=reason
        )
    )


def _user_saved(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if created:
        return
    changed_password = getattr(instance, "_password", None) is not None  # set_password()
    if changed_password or not getattr(instance, "is_active", True):
        reason = "password_changed" if changed_password else "deactivated"
        ended = end_user_families(instance, reason)
        if ended:
            audit("token.revoked", user_id=str(instance.pk), reason=reason, refresh=ended)


def connect() -> None:
    """Called by ``HardeningConfig.ready()``; idempotent (``dispatch_uid``)."""
    post_save.connect(
        _user_saved, sender=get_user_model(), dispatch_uid="hardening.jwt.tokens.user_saved"
    )


# -- per request: is this own access token still good? ---------------------------------


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


def own_user(claims: dict[str, Any]) -> Any:
    """The active user named by an own access token's ``user_id``."""
    model = get_user_model()
    try:
        user = model._default_manager.get(pk=claims["user_id"])
    except (model.DoesNotExist, ValueError, TypeError):
        raise TokenRejected("user", "jwt") from None
    if not getattr(user, "is_active", True):
        raise TokenRejected("user", "jwt")
    if not password_unchanged(claims, user):  # the password changed after the token's issue
        raise TokenRejected("revoked", "jwt")
    return user


def revocation_keys(claims: dict[str, Any]) -> list[str]:
    """The cache keys (before ``make_key``) whose presence revokes this access token."""
    keys = [REVOKED_PREFIX + str(claims["jti"])]
    if claims.get("fam"):
        keys.append(FAMILY_PREFIX + str(claims["fam"]))
    return keys


def check_not_revoked(claims: dict[str, Any]) -> None:
    """Refuse a revoked access token (``HARDENING_JWT_REVOKE_ACCESS_TOKENS``): one cache
    round trip (``get_many``) for the token's ``jti`` and its family, on every request."""
    if not conf.HARDENING_JWT_REVOKE_ACCESS_TOKENS:
        return
    try:
        revoked = GuardedCache(core.HARDENING_CACHE).get_many(revocation_keys(claims))
    except Exception as exc:
        if not is_outage(exc):
            raise
        # The cache is down or hung (the breaker logs the outage once): revocation cannot
        # be checked, and refusing every bearer request would take the API down with the
        # cache.  The token is accepted -- it lives at most its access lifetime (15 min by
        # default) -- and each such acceptance is counted (docs/jwt.md, docs/deployment.md).
        REVOCATION_UNCHECKED.inc()
        return
    if revoked:
        raise TokenRejected("revoked", "jwt")


def revoke_access_token(claims: dict[str, Any]) -> None:
    """Refuse this access token from now on (``HARDENING_JWT_REVOKE_ACCESS_TOKENS``)."""
    remaining = int(claims.get("exp", 0) - clock.now()) + LEEWAY
    if remaining > 0:
        caches[core.HARDENING_CACHE].set(REVOKED_PREFIX + str(claims["jti"]), 1, remaining)
