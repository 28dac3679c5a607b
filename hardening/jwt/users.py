"""Claims → Django user.

``HARDENING_JWT_USER_MODE = "stateless"`` (default): a :class:`ClaimsUser` built from the
verified claims, no database hit per request.  ``"create"``: a real user row, found or
created by ``"<issuer label>:<sub>"`` as username; the primary key is cached for five
minutes so the steady state costs one primary-key query, like own tokens.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.cache import DEFAULT_CACHE_ALIAS

from hardening.breaker import GuardedCache
from hardening.conf import conf
from hardening.jwt.config import Issuer
from hardening.jwt.lifecycle import password_unchanged
from hardening.jwt.parsing import TokenRejected

__all__ = ["ClaimsUser", "external_user", "own_user"]

USER_CACHE_SECONDS = 300


class ClaimsUser:
    """An authenticated user that exists only in a verified token."""

    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False
    is_authenticated = True

    def __init__(self, claims: dict[str, Any], kind: str) -> None:
        self.claims = claims
        self.kind = kind
        self.pk = self.id = self.username = str(claims["sub"])

    def __str__(self) -> str:
        return self.username

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClaimsUser) and (other.kind, other.pk) == (self.kind, self.pk)

    def __hash__(self) -> int:
        return hash((self.kind, self.pk))

    def get_username(self) -> str:
        return self.username

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return False

    def has_perms(self, perms: Any, obj: object = None) -> bool:
        return False

    def has_module_perms(self, module: str) -> bool:
        return False


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


def _cached_pk(key: str) -> Any:
    """The cached primary key, or None (also while the cache is down: the breaker skips it
    and the user is looked up in the database)."""
    try:
        return GuardedCache(DEFAULT_CACHE_ALIAS).get(key)
    except Exception:
        return None


def external_user(claims: dict[str, Any], issuer: Issuer) -> Any:
    if conf.HARDENING_JWT_USER_MODE != "create":
        return ClaimsUser(claims, issuer.kind)
    model = get_user_model()
    username = f"{issuer.label}:{claims['sub']}"[: getattr(model, "USERNAME_MAX", 150)]
    cache_key = "hardening:jwt:user:" + hashlib.sha256(username.encode()).hexdigest()
    pk = _cached_pk(cache_key)
    if pk is not None:  # the username is checked too: a stale entry never names another user
        found = {"pk": pk, model.USERNAME_FIELD: username}
        user = model._default_manager.filter(**found).first()
        if user is not None and user.is_active:
            return user
    user, _ = model._default_manager.get_or_create(
        **{model.USERNAME_FIELD: username}, defaults={"password": make_password(None)}
    )
    if not user.is_active:
        raise TokenRejected("user", issuer.kind)
    with contextlib.suppress(Exception):  # best effort: the database stays the truth
        GuardedCache(DEFAULT_CACHE_ALIAS).set(cache_key, user.pk, USER_CACHE_SECONDS)
    return user
