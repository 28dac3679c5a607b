"""Making, checking, revoking and rotating API keys.

A key reads ``<prefix>_<env>_<public id>_<secret>`` (``hk_live_3fZk9QpL2mXa_<32 chars>``):
the prefix (``HARDENING_API_KEY_PREFIX``) and the environment tag make a leaked key
recognisable by secret scanners and useless in another environment; the public id finds the
row; the secret is 32 characters of base62 (190 bits).  The row keeps only
``HMAC-SHA-256(HARDENING_API_KEY_HASH_KEY, key)``: a copy of the database alone cannot test a
guessed key, and the comparison is constant-time (``hmac.compare_digest``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q

from hardening import clock
from hardening.apikeys.conf import conf
from hardening.apikeys.models import APIKey
from hardening.conf import conf as core
from hardening.observability.audit import audit

#: Characters of the secret part (base62: 32 characters carry 190 bits).
SECRET_CHARS = 32
#: Characters of the public id (base62, about 71 bits: unique without a retry loop).
PUBLIC_ID_CHARS = 12
#: Seconds between two writes of ``last_used_at`` for one key.
LAST_USED_EVERY = 60
#: Longest key the parser looks at (anything longer is malformed without hashing it).
MAX_KEY_CHARS = 100
#: The environment tag of keys made (and accepted) in each ``HARDENING_ENVIRONMENT``.
ENV_TAGS = {"production": "live", "development": "dev", "test": "test"}
#: The derived development key's label (``HARDENING_API_KEY_HASH_KEY`` unset outside
#: production).
_DEV_LABEL = b"hardening.apikeys development hash key"

_ALPHABET = string.ascii_letters + string.digits
_SCOPE_CHARS = frozenset(string.ascii_letters + string.digits + ":._-/*")


class KeyRejected(Exception):
    """An API key that must not authenticate; ``reason`` says why (for logs and metrics)."""

    kind = "api_key"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Parts:
    prefix: str
    env: str
    public_id: str
    secret: str


def env_tag() -> str:
    return ENV_TAGS.get(core.HARDENING_ENVIRONMENT, "live")


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def hash_key() -> bytes:
    """The HMAC key: ``HARDENING_API_KEY_HASH_KEY``; outside production, when unset, one
    derived from ``SECRET_KEY`` (production refuses that: ``hardening.E801``)."""
    configured = conf.HARDENING_API_KEY_HASH_KEY
    if configured:
        return configured.encode()
    if core.is_production:
        raise ImproperlyConfigured("HARDENING_API_KEY_HASH_KEY is not set (hardening.E801).")
    from django.conf import settings

    return hmac.new(str(settings.SECRET_KEY).encode(), _DEV_LABEL, hashlib.sha256).digest()


def digest(key: str) -> str:
    return hmac.new(hash_key(), key.encode(), hashlib.sha256).hexdigest()


def parse(key: str) -> Parts:
    """The four parts of ``key``, or :class:`KeyRejected` (``malformed``, ``environment``)."""
    if len(key) > MAX_KEY_CHARS or not key.isascii():
        raise KeyRejected("malformed")
    pieces = key.split("_")
    if len(pieces) != 4:
        raise KeyRejected("malformed")
    parts = Parts(*pieces)
    if (
        parts.prefix != conf.HARDENING_API_KEY_PREFIX
        or len(parts.public_id) != PUBLIC_ID_CHARS
        or len(parts.secret) != SECRET_CHARS
        or not (parts.public_id + parts.secret).isalnum()
    ):
        raise KeyRejected("malformed")
    if parts.env != env_tag():
        raise KeyRejected("environment")
    return parts


def clean_scopes(scopes: Iterable[str]) -> list[str]:
    """Scopes as stored: stripped, unique, sorted; ValueError for an unusable one."""
    found = set()
    for scope in scopes:
        scope = str(scope).strip()
        if not scope:
            continue
        if len(scope) > 100 or not set(scope) <= _SCOPE_CHARS:
            raise ValueError(f"bad scope {scope!r} (letters, digits and :._-/* only)")
        found.add(scope)
    return sorted(found)


def _now() -> datetime:
    return datetime.fromtimestamp(clock.now(), tz=timezone.utc)


def create_key(
    *,
    user: Any = None,
    service: str = "",
    scopes: Iterable[str] = (),
    name: str = "",
    expires_in: timedelta | None = None,
    request: Any = None,
    by: str = "",
) -> tuple[APIKey, str]:
    """Make a key for ``user`` or the named ``service``: ``(row, key)``.  The key is not
    stored anywhere: hand it over once.  Audited as ``apikey.created`` (``by``: who made it,
    e.g. ``manage.py create_api_key``)."""
    if (user is None) == (not service):
        raise ValueError("an API key has one owner: a user or a service name")
    row = APIKey(
        name=name,
        user=user,
        service=service,
        scopes=clean_scopes(scopes),
        expires_at=_now() + expires_in if expires_in is not None else None,
    )
    key = assign(row)
    row.save()
    audit("apikey.created", request=request, key_id=row.public_id, owner=row.owner, by=by)
    return row, key


def assign(row: APIKey) -> str:
    """Give the unsaved ``row`` a new public id and key hash; return the key."""
    row.public_id = _random(PUBLIC_ID_CHARS)
    key = f"{conf.HARDENING_API_KEY_PREFIX}_{env_tag()}_{row.public_id}_{_random(SECRET_CHARS)}"
    row.key_hash = digest(key)
    return key


def check_key(key: str) -> APIKey:
    """The row of a valid ``key``, or :class:`KeyRejected` (``malformed``,
    ``environment``, ``unknown_key``, ``revoked``, ``expired``, ``user``, ``unavailable``)."""
    parts = parse(key)
    try:
        expected = digest(key)
    except ImproperlyConfigured:
        raise KeyRejected("unavailable") from None  # fail closed: E801 names the cause
    row: APIKey | None = (
        APIKey.objects.select_related("user").filter(public_id=parts.public_id).first()
    )
    stored = row.key_hash if row is not None else "0" * 64
    if not hmac.compare_digest(stored.encode(), expected.encode()) or row is None:
        raise KeyRejected("unknown_key")
    now = _now()
    if row.revoked_at is not None:
        raise KeyRejected("revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise KeyRejected("expired")
    if row.user is not None and not row.user.is_active:
        raise KeyRejected("user")
    touch(row, now)
    return row


def touch(row: APIKey, now: datetime) -> None:
    """Write ``last_used_at`` at most once per :data:`LAST_USED_EVERY` seconds (one
    conditional UPDATE: concurrent requests write it once)."""
    if row.last_used_at is not None and (now - row.last_used_at).total_seconds() < LAST_USED_EVERY:
        return
    stale = Q(last_used_at__isnull=True) | Q(
        last_used_at__lt=now - timedelta(seconds=LAST_USED_EVERY)
    )
    APIKey.objects.filter(pk=row.pk).filter(stale).update(last_used_at=now)
    row.last_used_at = now


def revoke(row: APIKey, *, request: Any = None, by: str = "") -> bool:
    """Revoke ``row`` now; False when it already was.  Audited as ``apikey.revoked``."""
    updated = APIKey.objects.filter(pk=row.pk, revoked_at__isnull=True).update(revoked_at=_now())
    row.refresh_from_db(fields=["revoked_at"])
    if updated:
        audit("apikey.revoked", request=request, key_id=row.public_id, owner=row.owner, by=by)
    return bool(updated)


def rotate(
    row: APIKey, *, overlap: timedelta = timedelta(hours=24), request: Any = None, by: str = ""
) -> tuple[APIKey, str]:
    """A new key with the same owner, scopes and expiry; the old one keeps working for
    ``overlap`` (or until its own expiry, if sooner), then expires."""
    if row.revoked_at is not None:
        raise ValueError("a revoked key cannot be rotated")
    with transaction.atomic():
        new, key = create_key(
            user=row.user,
            service=row.service,
            scopes=row.scopes,
            name=row.name,
            request=request,
            by=by,
        )
        if row.expires_at is not None:
            new.expires_at = row.expires_at
            new.save(update_fields=["expires_at"])
        ends = _now() + overlap
        row.expires_at = min(ends, row.expires_at) if row.expires_at is not None else ends
        row.replaced_by = new
        row.save(update_fields=["expires_at", "replaced_by"])
    audit("apikey.rotated", request=request, key_id=row.public_id, new_key_id=new.public_id, by=by)
    return new, key
