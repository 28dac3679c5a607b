"""The enrollment API with session and token users."""

from __future__ import annotations

import json
import re
from typing import Any

import pyotp
import pytest
from django.test import Client

from hardening.mfa import recovery
from hardening.mfa.models import RecoveryCode, TOTPDevice
from hardening.mfa.totp import code_at
from tests.helpers.clock import FakeClock
from tests.helpers.mfa import PASSWORD, code_now, make_device

pytestmark = pytest.mark.django_db


def send(client: Client, method: str, path: str, body: Any = None, **extra: Any) -> Any:
    data = json.dumps(body) if body is not None else ""
    return getattr(client, method)(path, data, content_type="application/json", **extra)


def current(secret: str, clock: FakeClock) -> str:
    return code_at(secret, int(clock.t // 30), digits=6)


def enroll(client: Client, clock: FakeClock, **extra: Any) -> tuple[str, list[str]]:
    created = send(client, "post", "/api/mfa/totp", {}, **extra)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["qr_svg"].startswith("<svg") and "<script" not in body["qr_svg"]
    parsed = pyotp.parse_uri(body["otpauth_uri"])
    assert parsed.secret == body["secret"] and parsed.issuer
    assert len(body["secret"]) == 32  # 160 bits
    confirm = send(
        client, "post", "/api/mfa/totp/confirm", {"code": current(body["secret"], clock)}, **extra
    )
    assert confirm.status_code == 200, confirm.content
    return body["secret"], confirm.json()["recovery_codes"]


def test_enroll_with_session(user: Any, client: Client, clock: FakeClock) -> None:
    client.force_login(user)
    assert client.get("/api/me").json()["mfa"] is False
    secret, codes = enroll(client, clock)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"([A-HJ-NP-Z2-9]{4}-){5}[A-HJ-NP-Z2-9]{4}", c) for c in codes)
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed and secret not in device.encrypted_secret
    assert RecoveryCode.objects.filter(user=user).count() == 10
    assert all(
        c.replace("-", "") not in r.code_hash for c in codes for r in RecoveryCode.objects.all()
    )
    # Confirming proved possession: the session is now MFA-verified.
    assert client.get("/api/me").json()["mfa"] is True
    listing = client.get("/api/mfa/totp").json()
    assert listing["recovery_codes_remaining"] == 10
    assert listing["devices"][0]["confirmed"] is True
    assert client.get("/api/mfa/recovery-codes").json() == {"remaining": 10}


def test_wrong_confirmation_code(user: Any, client: Client, clock: FakeClock) -> None:
    client.force_login(user)
    secret = send(client, "post", "/api/mfa/totp", {}).json()["secret"]
    wrong = f"{(int(current(secret, clock)) + 1) % 1_000_000:06d}"
    response = send(client, "post", "/api/mfa/totp/confirm", {"code": wrong})
    assert response.status_code == 403 and response.json()["error"] == "invalid_code"
    assert not TOTPDevice.objects.get(user=user).confirmed
    assert send(client, "post", "/api/mfa/totp/confirm", {"code": wrong}).status_code == 429


def test_enroll_with_token(user: Any, client: Client, clock: FakeClock) -> None:
    pair = send(client, "post", "/api/auth/token", {"username": "alice", "password": PASSWORD})
    auth = {"HTTP_AUTHORIZATION": f"Bearer {pair.json()['access']}"}
    enroll(client, clock, **auth)
    # Now the password alone leads to the MFA step.
    again = send(client, "post", "/api/auth/token", {"username": "alice", "password": PASSWORD})
    assert again.json()["mfa_required"] is True


def test_second_device_needs_mfa(user: Any, client: Client, clock: FakeClock) -> None:
    make_device(user)
    pair = send(client, "post", "/api/auth/token", {"username": "alice", "password": PASSWORD})
    token = pair.json()["mfa_token"]
    clock.advance(0)
    done = send(client, "post", "/api/auth/mfa", {"mfa_token": token, "code": code_now(clock)})
    client.force_login(user)  # a session without MFA: refused
    refused = send(client, "post", "/api/mfa/totp", {"name": "laptop"})
    assert refused.status_code == 403 and refused.json()["error"] == "mfa_required"
    client.logout()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {done.json()['access']}"}
    created = send(client, "post", "/api/mfa/totp", {"name": "laptop"}, **auth)
    assert created.status_code == 201
    assert send(client, "post", "/api/mfa/totp", {"name": "default"}, **auth).status_code == 409


def test_regenerate_and_disable_need_a_fresh_code(
    user: Any, client: Client, clock: FakeClock
) -> None:
    client.force_login(user)
    secret, codes = enroll(client, clock)
    assert send(client, "post", "/api/mfa/recovery-codes", {}).status_code == 400
    assert send(client, "post", "/api/mfa/recovery-codes", {"code": codes[0]}).status_code == 400
    replay = send(client, "post", "/api/mfa/recovery-codes", {"code": current(secret, clock)})
    assert replay.status_code == 403  # the confirmation already spent this step
    clock.next_step()
    fresh = send(client, "post", "/api/mfa/recovery-codes", {"code": current(secret, clock)})
    assert fresh.status_code == 200
    new_codes = fresh.json()["recovery_codes"]
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    assert not recovery.use(user, codes[1]) and recovery.remaining(user) == 10
    assert send(client, "delete", "/api/mfa/totp", {}).status_code == 400
    # A recovery code may disable (the lost-phone case).
    gone = send(client, "delete", "/api/mfa/totp", {"code": new_codes[0]})
    assert gone.status_code == 204
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not RecoveryCode.objects.filter(user=user).exists()


def test_anonymous_is_refused(client: Client) -> None:
    assert client.get("/api/mfa/totp").status_code in (401, 403)
    assert send(client, "post", "/api/mfa/totp/confirm", {"code": "1"}).status_code in (401, 403)


@pytest.mark.parametrize("body", ["nope", "[1]", '{"code": 5}', '{"code": ""}'])
def test_bad_input_is_4xx(user: Any, client: Client, body: str) -> None:
    client.force_login(user)
    client.post("/api/mfa/totp", "{}", content_type="application/json")
    for path in ("/api/mfa/totp/confirm", "/api/mfa/recovery-codes"):
        response = client.post(path, body, content_type="application/json")
        assert 400 <= response.status_code < 500
        assert "error" in response.json()
