"""The TOTP enrollment API (hardening.mfa.api) refusing and choosing: removal and a second
device need an MFA-verified session and a right code; ``id`` picks one device; the per-user
throttle and the device back-off; a second device keeps the recovery codes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from hardening.mfa import recovery, throttle
from hardening.mfa.models import RecoveryCode, TOTPDevice
from hardening.mfa.totp import code_at
from tests.helpers.clock import FakeClock
from tests.helpers.mfa import PASSWORD, code_now, make_device

pytestmark = pytest.mark.django_db

TOTP = "/api/mfa/totp"
CONFIRM = "/api/mfa/totp/confirm"


def send(client: Client, method: str, path: str, body: Any) -> Any:
    return getattr(client, method)(path, json.dumps(body), content_type="application/json")


def refused(response: Any, status: int, error: str) -> None:
    assert response.status_code == status, response.content
    assert response.json()["error"] == error


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.fixture
def verified(user: Any, clock: FakeClock) -> Client:
    """alice (a TOTP device, ten recovery codes) signed in through the MFA step."""
    make_device(user)
    recovery.generate(user)
    session = Client()
    session.post("/account/login/", {"step": "password", "username": "alice", "password": PASSWORD})
    done = session.post("/account/login/", {"step": "code", "code": code_now(clock)})
    assert done.status_code == 302, done.content
    clock.next_step()  # the next code is a fresh one
    return session


def test_removal_from_a_session_without_the_mfa_step_is_403(
    user: Any, client: Client, clock: FakeClock
) -> None:
    make_device(user)
    client.force_login(user)
    refused(send(client, "delete", TOTP, {"code": code_now(clock)}), 403, "mfa_required")
    assert TOTPDevice.objects.filter(user=user).exists()


def test_removal_with_a_wrong_code_is_403(user: Any, verified: Client, clock: FakeClock) -> None:
    refused(send(verified, "delete", TOTP, {"code": wrong(code_now(clock))}), 403, "invalid_code")
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_removing_one_device_by_id_keeps_the_others_and_the_codes(
    user: Any, verified: Client, clock: FakeClock
) -> None:
    phone = make_device(user, name="phone")
    response = send(verified, "delete", TOTP, {"code": code_now(clock), "id": phone.pk})
    assert response.status_code == 204
    assert list(TOTPDevice.objects.values_list("name", flat=True)) == ["default"]
    assert RecoveryCode.objects.filter(user=user).count() == 10  # a factor is left


def test_confirming_from_a_session_without_the_mfa_step_is_403(
    user: Any, client: Client, clock: FakeClock
) -> None:
    make_device(user)
    make_device(user, name="new", confirmed=False)
    client.force_login(user)
    refused(send(client, "post", CONFIRM, {"code": code_now(clock)}), 403, "mfa_required")
    assert not TOTPDevice.objects.get(name="new").confirmed


def test_confirm_picks_the_pending_device_by_id(
    user: Any, verified: Client, clock: FakeClock
) -> None:
    refused(send(verified, "post", CONFIRM, {"code": code_now(clock)}), 404, "no_pending_device")
    first = send(verified, "post", TOTP, {"name": "first"}).json()
    second = send(verified, "post", TOTP, {"name": "second"}).json()
    code = code_at(second["secret"], int(clock.t // 30), digits=6)
    response = send(verified, "post", CONFIRM, {"code": code, "id": 10**9})
    refused(response, 404, "no_pending_device")
    response = send(verified, "post", CONFIRM, {"code": code, "id": second["id"]})
    assert response.status_code == 200, response.content
    # A second device: the existing recovery codes stay, none are issued.
    assert response.json() == {"recovery_codes": [], "recovery_codes_remaining": 10}
    confirmed = dict(TOTPDevice.objects.values_list("pk", "confirmed"))
    assert confirmed[second["id"]] is True and confirmed[first["id"]] is False


def test_confirming_is_refused_while_the_user_is_throttled(user: Any, clock: FakeClock) -> None:
    client = Client()
    client.force_login(user)
    secret = send(client, "post", TOTP, {}).json()["secret"]
    for _ in range(throttle.USER_MAX_FAILURES):
        throttle.record_failure(user.pk, "198.51.100.7")
    right = code_at(secret, int(clock.t // 30), digits=6)
    response = send(client, "post", CONFIRM, {"code": right})
    refused(response, 429, "mfa_throttled")
    assert 1 <= int(response["Retry-After"]) <= throttle.FAILURE_WINDOW
    assert not TOTPDevice.objects.get(user=user).confirmed


def test_the_device_back_off_is_not_counted_as_another_failure(
    user: Any, client: Client, clock: FakeClock
) -> None:
    client.force_login(user)
    secret = send(client, "post", TOTP, {}).json()["secret"]
    bad = wrong(code_at(secret, int(clock.t // 30), digits=6))
    refused(send(client, "post", CONFIRM, {"code": bad}), 403, "invalid_code")
    refused(send(client, "post", CONFIRM, {"code": bad}), 429, "mfa_throttled")  # back-off
    assert throttle.attempts_left(user.pk, "127.0.0.1") == throttle.USER_MAX_FAILURES - 1


def test_regenerating_codes_with_a_wrong_code_is_403(
    user: Any, verified: Client, clock: FakeClock
) -> None:
    before = set(RecoveryCode.objects.values_list("code_hash", flat=True))
    response = send(verified, "post", "/api/mfa/recovery-codes", {"code": wrong(code_now(clock))})
    refused(response, 403, "invalid_code")
    assert set(RecoveryCode.objects.values_list("code_hash", flat=True)) == before


def test_regenerating_codes_through_the_api_needs_a_totp_device(user: Any, client: Client) -> None:
    client.force_login(user)
    response = send(client, "post", "/api/mfa/recovery-codes", {"code": "123456"})
    refused(response, 409, "mfa_not_enabled")
    assert not RecoveryCode.objects.exists()
