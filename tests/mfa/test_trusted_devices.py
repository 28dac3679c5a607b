"""Trusted devices: opt-in, a signed HttpOnly cookie bound to the user and to a row that can
be revoked; never for staff; the session counts as verified when the browser was trusted."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import signing
from django.test import Client, override_settings

from hardening.mfa import trusted
from hardening.mfa.models import TrustedDevice
from hardening.mfa.policy import SESSION_KEY
from hardening.mfa.reset import reset_mfa
from tests.helpers.clock import FakeClock
from tests.helpers.mfa import PASSWORD, code_now, make_device

pytestmark = [pytest.mark.django_db]


def signin(client: Client, username: str = "alice") -> Any:
    return client.post(
        "/account/login/", {"step": "password", "username": username, "password": PASSWORD}
    )


def code_step(client: Client, code: str, trust: bool = True) -> Any:
    data = {"step": "code", "code": code, **({"trust": "on"} if trust else {})}
    return client.post("/account/login/", data)


def trust(client: Client, clock: FakeClock, username: str = "alice") -> Any:
    page = signin(client, username)
    assert page.status_code == 200 and 'id="login-code"' in page.content.decode()
    return code_step(client, code_now(clock))


def end_session(client: Client) -> None:
    """The session expires; the browser keeps its other cookies."""
    client.cookies.pop("sessionid", None)


@override_settings(HARDENING_MFA_TRUSTED_DEVICE_DAYS=30)
def test_a_trusted_browser_skips_the_step(user: Any, client: Client, clock: FakeClock) -> None:
    make_device(user)
    response = trust(client, clock)
    assert response.status_code == 302
    cookie = response.cookies[trusted.COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["max-age"] == 30 * 86400
    assert signing.loads(cookie.value, salt=trusted.SALT)["u"] == str(user.pk)
    verified_at = clock.t
    clock.advance(3600)
    end_session(client)
    response = signin(client)
    assert response.status_code == 302  # no code step
    record = client.session[SESSION_KEY]
    assert record["amr"] == "trusted" and record["at"] == int(verified_at)  # step-up still asks


@override_settings(HARDENING_MFA_TRUSTED_DEVICE_DAYS=30, HARDENING_ENVIRONMENT="production")
def test_the_cookie_is_secure_in_production(user: Any, client: Client, clock: FakeClock) -> None:
    make_device(user)
    assert trust(client, clock).cookies[trusted.COOKIE]["secure"]


@override_settings(HARDENING_MFA_TRUSTED_DEVICE_DAYS=0)  # the package's default
def test_off_at_zero_days(user: Any, client: Client, clock: FakeClock) -> None:
    make_device(user)
    page = signin(client).content.decode()
    assert 'name="trust"' not in page
    assert trusted.COOKIE not in code_step(client, code_now(clock)).cookies
    assert not TrustedDevice.objects.exists()


@override_settings(HARDENING_MFA_TRUSTED_DEVICE_DAYS=30)
def test_never_offered_to_staff(django_user_model: Any, client: Client, clock: FakeClock) -> None:
    staff = django_user_model.objects.create_user("root", password=PASSWORD, is_staff=True)
    make_device(staff)
    assert 'name="trust"' not in signin(client, "root").content.decode()
    assert trusted.COOKIE not in code_step(client, code_now(clock)).cookies
    assert trusted.days_for(staff) == 0


@override_settings(HARDENING_MFA_TRUSTED_DEVICE_DAYS=30)
def test_revoked_expired_or_foreign_cookies_do_not_skip(
    user: Any, django_user_model: Any, client: Client, clock: FakeClock
) -> None:
    make_device(user)
    bob = django_user_model.objects.create_user("bob", password=PASSWORD)
    make_device(bob)
    trust(client, clock)
    end_session(client)
    assert signin(client, "bob").status_code == 200  # alice's cookie is not bob's
    client.post("/account/login/", {"step": "password", "username": "x", "password": "y"})
    client.session.flush()
    end_session(client)
    TrustedDevice.objects.filter(user=user).delete()  # revoked (the page, the admin)
    assert signin(client).status_code == 200
    end_session(client)
    client.cookies[trusted.COOKIE] = signing.dumps({"u": str(user.pk), "k": "guess"}, salt="x")
    assert signin(client).status_code == 200  # not our signature


@override_settings(HARDENING_MFA_TRUSTED_DEVICE_DAYS=30)
def test_the_page_revokes_from_a_verified_session(
    user: Any, client: Client, clock: FakeClock
) -> None:
    make_device(user)
    trust(client, clock)
    page = client.get("/account/mfa/").content.decode()
    assert 'id="trusted"' in page
    row = TrustedDevice.objects.get()
    response = client.post("/account/mfa/", {"action": "forget", "id": str(row.pk)})
    assert response.status_code == 200 and not TrustedDevice.objects.exists()
    password_only = Client()
    password_only.force_login(user)
    response = password_only.post("/account/mfa/", {"action": "forget-all"})
    assert response.status_code == 403


@override_settings(HARDENING_MFA_TRUSTED_DEVICE_DAYS=30)
def test_reset_mfa_forgets_trusted_browsers(user: Any, client: Client, clock: FakeClock) -> None:
    make_device(user)
    trust(client, clock)
    reset_mfa(user.pk)
    assert not TrustedDevice.objects.exists()
