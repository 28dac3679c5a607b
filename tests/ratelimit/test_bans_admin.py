"""Listing and lifting bans at their edges (hardening.ratelimit.bans and the admin page):
API-key identities, expired or TTL-less keys and the listing's bound on Redis, a staff
member without the change permission, and an identity the page does not understand."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import caches
from django.test import Client, override_settings

from hardening.ratelimit.bans import active_bans, identity_for
from hardening.ratelimit.keys import ban_key

PAGE = "/admin/ratelimit/bans/"


def test_an_api_key_identity() -> None:
    assert identity_for(key="hk_0123") == "key:hk_0123"
    assert identity_for(user="7", key="hk_0123") == "u:7"  # the first one given wins


@pytest.mark.redis
@override_settings(HARDENING_CACHE="redis")
def test_the_listing_skips_keys_without_a_ttl_and_is_bounded() -> None:
    cache = caches["redis"]
    tag = uuid.uuid4().hex[:8]
    live = [f"u:{tag}-{n}" for n in range(3)]
    for identity in live:
        cache.set(ban_key(identity), 1, 120)
    cache.set(ban_key(f"u:{tag}-forever"), 1, None)  # not a ban this code wrote: no TTL
    try:
        listed = active_bans()
        assert listed is not None
        mine = [(identity, ttl) for identity, ttl in listed if tag in identity]
        assert [identity for identity, _ in mine] == live
        assert all(0 < ttl <= 120 for _, ttl in mine)
        bounded = active_bans(limit=2)
        assert bounded is not None and len(bounded) == 2
    finally:
        cache.delete_many([ban_key(i) for i in [*live, f"u:{tag}-forever"]])


def test_the_listing_needs_redis() -> None:
    assert active_bans() is None  # LocMem: lifting works, listing does not


@pytest.fixture
def staff(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(
        f"staff-{uuid.uuid4().hex[:6]}", password="x-123456789", is_staff=True
    )


@pytest.mark.django_db
def test_staff_without_the_change_permission_cannot_lift(staff: Any) -> None:
    identity = "u:4242"
    caches["default"].set(ban_key(identity), 1, 60)
    client = Client()
    client.force_login(staff)
    assert client.get(PAGE).status_code == 200  # may look
    assert client.post(PAGE, {"identity": identity}).status_code == 403  # may not lift
    assert caches["default"].get(ban_key(identity)) is not None
    staff.user_permissions.add(Permission.objects.get(codename="change_user"))
    staff = get_user_model().objects.get(pk=staff.pk)  # permissions are cached per object
    client.force_login(staff)
    assert client.post(PAGE, {"identity": identity}).status_code == 302
    assert caches["default"].get(ban_key(identity)) is None


@pytest.mark.django_db
@pytest.mark.parametrize("identity", ["203.0.113.7", "user:1", ""])
def test_an_identity_without_its_kind_is_explained(django_user_model: Any, identity: str) -> None:
    admin = django_user_model.objects.create_superuser(
        f"admin-{uuid.uuid4().hex[:6]}", password="x-123456789"
    )
    client = Client()
    client.force_login(admin)
    done = client.post(PAGE, {"identity": identity}, follow=True)
    assert done.status_code == 200
    assert "Give an identity like ip:203.0.113.7 or u:42." in done.content.decode()
