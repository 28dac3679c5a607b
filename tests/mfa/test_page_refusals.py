"""The /account/mfa/ page (hardening.mfa.page) refusing: every change to the factors needs
the session's MFA step; a taken name, a wrong or throttled confirmation code, a recovery
code where a device code is asked, a malformed browser id or form field; an undecryptable
secret is a 503, never a 500."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from hardening.mfa import recovery, throttle
from hardening.mfa.models import TOTPDevice, TrustedDevice
from hardening.mfa.policy import SESSION_KEY
from hardening.mfa.totp import code_at
from tests.helpers.clock import FakeClock
from tests.helpers.mfa import code_now, make_device

pytestmark = pytest.mark.django_db

PAGE = "/account/mfa/"


def error(response: Any) -> str:
    found = re.search(r'<p id="error"[^>]*>([^<]*)</p>', response.content.decode())
    assert found is not None, response.content.decode()
    return found.group(1)


def pending_secret(client: Client, name: str = "phone") -> str:
    page = client.post(PAGE, {"action": "enroll", "name": name}).content.decode()
    found = re.search(r'<code id="secret">([A-Z2-7]+)</code>', page)
    assert found is not None, page
    return found.group(1)


@pytest.fixture
def unverified(user: Any) -> Client:
    """alice has a TOTP device; this session has not used it."""
    make_device(user)
    session = Client()
    session.force_login(user)
    return session


@pytest.fixture
def verified(user: Any, clock: FakeClock) -> Client:
    make_device(user)
    recovery.generate(user)
    session = Client()
    session.force_login(user)
    assert session.post(PAGE, {"action": "verify", "code": code_now(clock)}).status_code == 200
    clock.next_step()
    return session


FIRST = "Verify with your current device first."


@pytest.mark.parametrize("action", ["enroll", "add"])
def test_adding_a_device_needs_the_mfa_step(user: Any, unverified: Client, action: str) -> None:
    response = unverified.post(PAGE, {"action": action, "name": "second"})
    assert response.status_code == 403 and error(response) == FIRST
    assert list(TOTPDevice.objects.values_list("name", flat=True)) == ["default"]


def test_confirming_needs_the_mfa_step(user: Any, unverified: Client, clock: FakeClock) -> None:
    make_device(user, name="second", confirmed=False)
    response = unverified.post(PAGE, {"action": "confirm", "code": code_now(clock)})
    assert response.status_code == 403 and error(response) == FIRST
    assert not TOTPDevice.objects.get(name="second").confirmed


def test_disabling_needs_the_mfa_step(user: Any, unverified: Client, clock: FakeClock) -> None:
    response = unverified.post(PAGE, {"action": "disable", "code": code_now(clock)})
    assert response.status_code == 403 and error(response) == FIRST
    assert TOTPDevice.objects.filter(user=user).exists()


@pytest.mark.parametrize("action", ["forget", "forget-all"])
def test_forgetting_browsers_needs_the_mfa_step(unverified: Client, action: str) -> None:
    response = unverified.post(PAGE, {"action": action, "id": "1"})
    assert response.status_code == 403 and error(response) == FIRST


def test_a_taken_device_name_is_409(verified: Client) -> None:
    response = verified.post(PAGE, {"action": "add", "name": "default"})
    assert response.status_code == 409
    assert error(response) == "An authenticator with that name exists."
    assert TOTPDevice.objects.count() == 1


def test_a_second_device_is_confirmed_without_new_recovery_codes(
    user: Any, verified: Client, clock: FakeClock
) -> None:
    verified_at = verified.session[SESSION_KEY]["at"]
    clock.advance(120)
    secret = pending_secret(verified)
    code = code_at(secret, int(clock.t // 30), digits=6)
    response = verified.post(PAGE, {"action": "confirm", "code": code})
    assert response.status_code == 200
    # A second device proves nothing new: the session's step is not renewed by it.
    assert verified.session[SESSION_KEY]["at"] == verified_at
    html = response.content.decode()
    assert "Two-factor authentication is on." in html and "<li><code>" not in html
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 2
    assert recovery.remaining(user) == 10


def test_a_wrong_confirmation_code_is_403_and_counted(
    user: Any, client: Client, clock: FakeClock
) -> None:
    client.force_login(user)
    secret = pending_secret(client)
    wrong = f"{(int(code_at(secret, int(clock.t // 30), digits=6)) + 1) % 1_000_000:06d}"
    response = client.post(PAGE, {"action": "confirm", "code": wrong})
    assert response.status_code == 403
    assert throttle.attempts_left(user.pk, "127.0.0.1") == throttle.USER_MAX_FAILURES - 1
    again = client.post(PAGE, {"action": "confirm", "code": wrong})  # the device's back-off
    assert again.status_code == 429 and again["Retry-After"] == "1"
    assert throttle.attempts_left(user.pk, "127.0.0.1") == throttle.USER_MAX_FAILURES - 1
    assert not TOTPDevice.objects.get(user=user).confirmed


def test_confirming_while_the_user_is_throttled_is_429(
    user: Any, client: Client, clock: FakeClock
) -> None:
    client.force_login(user)
    secret = pending_secret(client)
    for _ in range(throttle.USER_MAX_FAILURES):
        throttle.record_failure(user.pk, "198.51.100.7")
    right = code_at(secret, int(clock.t // 30), digits=6)
    response = client.post(PAGE, {"action": "confirm", "code": right})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= throttle.FAILURE_WINDOW
    assert not TOTPDevice.objects.get(user=user).confirmed


def test_regenerating_with_a_recovery_code_is_400(user: Any, verified: Client) -> None:
    code = recovery.generate(user)[0]
    response = verified.post(PAGE, {"action": "regenerate", "code": code})
    assert response.status_code == 400
    assert error(response) == "Use a code from your authenticator app."
    assert recovery.remaining(user) == 10  # the code was not spent


@pytest.mark.parametrize("pk", ["", "x", "-1", "1.0"])
def test_forgetting_a_browser_needs_a_numeric_id(verified: Client, pk: str) -> None:
    response = verified.post(PAGE, {"action": "forget", "id": pk})
    assert response.status_code == 400 and error(response) == "Unknown browser."


def test_forgetting_an_unknown_browser_forgets_none(user: Any, verified: Client) -> None:
    response = verified.post(PAGE, {"action": "forget", "id": "999999"})
    assert response.status_code == 200 and "Forgot 0 browsers." in response.content.decode()
    assert not TrustedDevice.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"action": "verify", "code": "1" * 65},
        {"action": "verify\x00"},
        {"action": "add", "name": "phone\x00"},
    ],
)
def test_malformed_form_fields_are_400_before_any_lookup(
    unverified: Client, data: dict[str, str]
) -> None:
    response = unverified.post(PAGE, data)
    assert response.status_code == 400 and error(response)
    assert "no-store" in response["Cache-Control"]
    assert list(TOTPDevice.objects.values_list("name", flat=True)) == ["default"]


def test_an_undecryptable_secret_is_503(user: Any, unverified: Client, clock: FakeClock) -> None:
    TOTPDevice.objects.update(encrypted_secret="not a fernet token")  # a lost or wrong key
    response = unverified.post(PAGE, {"action": "verify", "code": code_now(clock)})
    assert response.status_code == 503
    assert response.json()["error"] == "mfa_unavailable"
