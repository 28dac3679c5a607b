"""Trusted devices: "remember this browser", opt-in per login.

When ``HARDENING_MFA_TRUSTED_DEVICE_DAYS`` is above 0, the session login's MFA step offers
to trust the browser.  Trusting it stores a :class:`~hardening.mfa.models.TrustedDevice`
row (the SHA-256 of a random key) and sets a signed (``django.core.signing``, salted),
``HttpOnly``, ``Secure`` (``SameSite=Lax``) cookie holding the user id and the key.  On the
next password login of *that* user from that browser, the MFA step is skipped; the session
counts as verified at the time of the MFA that trusted it, so step-up checks
(``RequireRecentAuth``) still ask for a fresh factor.

The cookie alone is worth nothing: the row must exist and be unexpired, so a browser is
revoked by deleting its row (the MFA page, the admin, a MFA reset, turning MFA off).  Staff
and superusers never skip the step unless :data:`STAFF_MAY_TRUST` is set.  Only the
session login honours the cookie; token logins (``POST /api/auth/token``) always ask.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from hardening.conf import conf as core
from hardening.mfa.conf import conf
from hardening.mfa.models import TrustedDevice
from hardening.observability.audit import audit

COOKIE = "hardening_trusted"
SALT = "hardening.mfa.trusted"
#: May staff and superusers skip the MFA step on a trusted browser?  Off: an admin's
#: session always proves a factor.
STAFF_MAY_TRUST = False
#: Trusted browsers kept per user (the oldest are dropped).
MAX_DEVICES = 20


def days_for(user: Any) -> int:
    """Days ``user`` may trust a browser for (0: not offered)."""
    days = conf.HARDENING_MFA_TRUSTED_DEVICE_DAYS
    staff = bool(getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))
    return 0 if staff and not STAFF_MAY_TRUST else days


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


def _secure(request: HttpRequest) -> bool:
    # Secure always in production; in development over plain HTTP the cookie would be lost.
    return core.is_production or request.is_secure()


def remember(request: HttpRequest, response: HttpResponse, user: Any, verified_at: float) -> bool:
    """Trust this browser for ``user`` (after a passed MFA step); False when not offered."""
    days = days_for(user)
    if days <= 0:
        return False
    key = secrets.token_urlsafe(32)
    keep = TrustedDevice.objects.filter(user=user).order_by("-created_at")[: MAX_DEVICES - 1]
    TrustedDevice.objects.filter(user=user).exclude(
        pk__in=list(keep.values_list("pk", flat=True))
    ).delete()
    row = TrustedDevice.objects.create(
        user=user,
        key_hash=_hash(key),
        label=request.headers.get("User-Agent", "")[:128],
        verified_at=verified_at,
        expires_at=timezone.now() + timedelta(days=days),
    )
    value = signing.dumps({"u": str(user.pk), "k": key}, salt=SALT)
    response.set_cookie(
        COOKIE,
        value,
        max_age=days * 86400,
        secure=_secure(request),
        httponly=True,
        samesite="Lax",
    )
    audit("mfa.trusted_device_added", request=request, user_id=str(user.pk), device_id=row.pk)
    return True


def recognised(request: HttpRequest, user: Any) -> TrustedDevice | None:
    """This browser's trust for ``user``, if its cookie is genuine, for this user, and its
    row exists and has not expired (and the user may skip the step at all)."""
    days = days_for(user)
    raw = request.COOKIES.get(COOKIE)
    if days <= 0 or not raw or len(raw) > 512:
        return None
    try:
        data = signing.loads(raw, salt=SALT, max_age=days * 86400)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != str(user.pk):
        return None
    key = data.get("k")
    if not isinstance(key, str):
        return None
    row: TrustedDevice | None = TrustedDevice.objects.filter(
        user=user, key_hash=_hash(key), expires_at__gt=timezone.now()
    ).first()
    if row is not None:
        TrustedDevice.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
        audit("mfa.trusted_device_used", request=request, user_id=str(user.pk), device_id=row.pk)
    return row


def revoke(request: HttpRequest | None, user: Any, pk: int | None = None) -> int:
    """Forget one trusted browser of ``user`` (or all of them); returns how many."""
    rows = TrustedDevice.objects.filter(user=user)
    if pk is not None:
        rows = rows.filter(pk=pk)
    removed, _ = rows.delete()
    if removed:
        audit("mfa.trusted_device_revoked", request=request, devices=removed)
    return int(removed)
