"""Issue 12 item 1: a pending (unconfirmed) device never lets a password-only session
or token through MFA, and never shows its secret to such a session."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from hardening.mfa import devices
from hardening.mfa.models import TOTPDevice
from hardening.mfa.totp import code_at
from tests.helpers.clock import FakeClock
from tests.helpers.mfa import PASSWORD, RFC_SECRET, code_now, make_device

pytestmark = pytest.mark.django_db

SECOND_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def staff(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(
        "boss", password=PASSWORD, is_staff=True, is_superuser=True
    )


def pending_device(user: Any, name: str = "new phone") -> TOTPDevice:
    device, _ = devices.create_device(user, name)
    device.secret = SECOND_SECRET
    device.save()
    return device


def send(client: Client, path: str, body: Any, **extra: Any) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json", **extra)


def admin_login(client: Client) -> None:
    response = client.post("/admin/login/?next=/admin/", {"username": "boss", "password": PASSWORD})
    assert response.status_code == 302, response.status_code


def test_password_only_session_cannot_confirm_a_pending_device_on_the_page(
    staff: Any, client: Client, clock: FakeClock
) -> None:
    make_device(staff)
    pending = pending_device(staff)
    admin_login(client)
    page = client.get("/account/mfa/").content.decode()
    assert SECOND_SECRET not in page and 'id="secret"' not in page and "<svg" not in page
    code = code_at(SECOND_SECRET, int(clock.t // 30), digits=6)
    refused = client.post("/account/mfa/", {"action": "confirm", "code": code})
    assert refused.status_code == 403
    pending.refresh_from_db()
    assert not pending.confirmed
    assert client.get("/api/me").json()["mfa"] is False
    with override_settings(HARDENING_MFA_REQUIRED="staff"):
        admin = client.get("/admin/")
    assert admin.status_code in (302, 403)  # the admin does not open


def test_password_only_session_cannot_confirm_a_pending_device_through_the_api(
    staff: Any, client: Client, clock: FakeClock
) -> None:
    make_device(staff)
    pending = pending_device(staff)
    admin_login(client)
    code = code_at(SECOND_SECRET, int(clock.t // 30), digits=6)
    refused = send(client, "/api/mfa/totp/confirm", {"code": code})
    assert refused.status_code == 403 and refused.json()["error"] == "mfa_required"
    pending.refresh_from_db()
    assert not pending.confirmed
    assert client.get("/api/me").json()["mfa"] is False


def test_password_only_token_cannot_confirm_a_pending_device(
    staff: Any, client: Client, clock: FakeClock
) -> None:
    # A token user without MFA cannot exist for a user with a device (the login demands the
    # code), but a token minted before the device was confirmed must not confirm another.
    from hardening.jwt.tokens import issue_token_pair

    make_device(staff)
    pending = pending_device(staff)
    access = issue_token_pair(staff, amr=["pwd"])["access"]
    code = code_at(SECOND_SECRET, int(clock.t // 30), digits=6)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {access}"}
    refused = send(client, "/api/mfa/totp/confirm", {"code": code}, **auth)
    assert refused.status_code == 403
    pending.refresh_from_db()
    assert not pending.confirmed


def test_verified_session_confirms_a_second_device_without_re_marking(
    staff: Any, client: Client, clock: FakeClock
) -> None:
    make_device(staff)
    admin_login(client)
    verified = client.post("/account/mfa/", {"action": "verify", "code": code_now(clock)})
    assert verified.status_code == 200
    page = client.post("/account/mfa/", {"action": "add", "name": "laptop"}).content.decode()
    secret = re.search(r'<code id="secret">([A-Z2-7]+)</code>', page)
    assert secret is not None
    code = code_at(secret.group(1), int(clock.t // 30), digits=6)
    done = client.post("/account/mfa/", {"action": "confirm", "code": code})
    assert done.status_code == 200
    assert TOTPDevice.objects.filter(user=staff, confirmed=True).count() == 2


@pytest.mark.parametrize("action", ["enroll", "add"])
def test_password_only_session_cannot_add_a_device_on_the_page(
    staff: Any, client: Client, clock: FakeClock, action: str
) -> None:
    """A password alone never yields a second factor: adding a device (whose secret the page
    would then show) needs a session verified with a confirmed device, like the API."""
    make_device(staff)
    admin_login(client)
    refused = client.post("/account/mfa/", {"action": action, "name": "attacker phone"})
    assert refused.status_code == 403
    page = refused.content.decode()
    assert 'id="secret"' not in page and "<svg" not in page
    assert list(TOTPDevice.objects.filter(user=staff).values_list("name", flat=True)) == ["default"]
    api = send(client, "/api/mfa/totp", {"name": "attacker phone"})
    assert api.status_code == 403 and api.json()["error"] == "mfa_required"
    assert TOTPDevice.objects.filter(user=staff).count() == 1


def test_disable_needs_a_verified_session(staff: Any, client: Client, clock: FakeClock) -> None:
    make_device(staff)
    admin_login(client)
    refused = client.post("/account/mfa/", {"action": "disable", "code": code_now(clock)})
    assert refused.status_code == 403
    assert TOTPDevice.objects.filter(user=staff, confirmed=True).exists()
    api = client.delete(
        "/api/mfa/totp", json.dumps({"code": code_now(clock)}), content_type="application/json"
    )
    assert api.status_code == 403
    assert TOTPDevice.objects.filter(user=staff, confirmed=True).exists()


@pytest.fixture
def alice(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", password=PASSWORD)


def test_a_stale_pending_device_cannot_be_confirmed(
    alice: Any, client: Client, clock: FakeClock
) -> None:
    pending = pending_device(alice, "default")
    TOTPDevice.objects.filter(pk=pending.pk).update(
        created_at=timezone.now() - timedelta(seconds=devices.PENDING_DEVICE_TTL + 1)
    )
    client.force_login(alice)
    assert SECOND_SECRET not in client.get("/account/mfa/").content.decode()
    code = code_at(SECOND_SECRET, int(clock.t // 30), digits=6)
    refused = send(client, "/api/mfa/totp/confirm", {"code": code})
    assert refused.status_code == 404
    assert not TOTPDevice.objects.filter(user=alice, confirmed=True).exists()


assert RFC_SECRET != SECOND_SECRET
