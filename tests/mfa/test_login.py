"""The MFA step of the JWT login, end to end through the example project's URLs."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from django.test import Client, override_settings

from hardening.mfa import devices, recovery, throttle
from hardening.mfa.login import mfa_challenge
from hardening.mfa.models import MFAChallenge
from tests.helpers.clock import FakeClock
from tests.helpers.mfa import PASSWORD, code_now, make_device

pytestmark = pytest.mark.django_db


def post(client: Client, path: str, body: Any) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(path, data, content_type="application/json")


def login(client: Client, username: str = "alice") -> Any:
    return post(client, "/api/auth/token", {"username": username, "password": PASSWORD})


def claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def test_user_without_mfa_gets_tokens_directly(user: Any, client: Client) -> None:
    assert mfa_challenge(None, user) is None  # type: ignore[arg-type]
    response = login(client)
    assert response.status_code == 200
    assert claims(response.json()["access"])["amr"] == ["pwd"]


def test_full_login_with_totp(user: Any, client: Client, clock: FakeClock, events: Any) -> None:
    make_device(user)
    first = login(client)
    assert first.status_code == 200
    body = first.json()
    assert body["mfa_required"] is True and "access" not in body
    token = body["mfa_token"]
    # The mfa_token is not an access token.
    me = client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.status_code == 401
    assert "auth.succeeded" not in [e for e, _ in events]  # the password alone is not a login
    second = post(client, "/api/auth/mfa", {"mfa_token": token, "code": code_now(clock)})
    assert second.status_code == 200, second.content
    assert "no-store" in second["Cache-Control"]
    access = second.json()["access"]
    access_claims = claims(access)
    assert access_claims["amr"] == ["pwd", "otp"]
    assert access_claims["auth_time"] == int(clock.t)
    me = client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert me.status_code == 200 and me.json()["mfa"] is True
    assert (
        "mfa.verified",
        {"user_id": str(user.pk), "device_id": user.mfa_totp_devices.get().pk},
    ) in [(e, {k: v for k, v in f.items() if k != "client_ip"}) for e, f in events]
    succeeded = [f for e, f in events if e == "auth.succeeded"]
    assert [(f["user_id"], f["amr"]) for f in succeeded] == [(str(user.pk), "pwd,otp")]
    # Single use: the same token again, even with the next valid code, is refused.
    clock.next_step()
    again = post(client, "/api/auth/mfa", {"mfa_token": token, "code": code_now(clock)})
    assert again.status_code == 401 and again.json()["error"] == "invalid_mfa_token"


def test_token_without_mfa_is_not_mfa(user: Any, client: Client) -> None:
    access = login(client).json()["access"]
    assert client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {access}").json()["mfa"] is False


def test_mfa_token_expires(user: Any, client: Client, clock: FakeClock) -> None:
    make_device(user)
    token = login(client).json()["mfa_token"]
    clock.advance(300)
    clock.next_step()
    response = post(client, "/api/auth/mfa", {"mfa_token": token, "code": code_now(clock)})
    assert response.status_code == 401


def test_mfa_token_allows_bounded_attempts(
    user: Any, client: Client, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_device(user)
    token = login(client).json()["mfa_token"]
    # The per-account lock (5 failures) would answer 429 first; this is about the token.
    monkeypatch.setattr(devices, "THROTTLE_FACTOR", 0.001)
    with override_settings(HARDENING_LOCKOUT=None):
        for left in (4, 3, 2, 1, 0):
            clock.advance(1)  # past the (tiny) device back-off
            bad = post(client, "/api/auth/mfa", {"mfa_token": token, "code": "000000"})
            assert bad.status_code == 401 and bad.json()["attempts_left"] == left
        clock.next_step()
        good = post(client, "/api/auth/mfa", {"mfa_token": token, "code": code_now(clock)})
    assert good.status_code == 401 and good.json()["error"] == "invalid_mfa_token"


def test_replayed_code_is_refused_and_audited(
    user: Any, client: Client, clock: FakeClock, events: Any
) -> None:
    from hardening.observability.metrics import MFA_FAILURES

    make_device(user)
    code = code_now(clock)
    first = login(client).json()["mfa_token"]
    assert post(client, "/api/auth/mfa", {"mfa_token": first, "code": code}).status_code == 200
    replays = MFA_FAILURES.labels(reason="replay")._value.get()
    second = login(client).json()["mfa_token"]
    replay = post(client, "/api/auth/mfa", {"mfa_token": second, "code": code})
    assert replay.status_code == 401 and replay.json()["error"] == "invalid_code"
    assert "mfa.replay" in [e for e, _ in events]
    assert MFA_FAILURES.labels(reason="replay")._value.get() == replays + 1


def test_recovery_code_login(user: Any, client: Client, clock: FakeClock) -> None:
    make_device(user)
    codes = recovery.generate(user)
    token = login(client).json()["mfa_token"]
    response = post(client, "/api/auth/mfa", {"mfa_token": token, "code": codes[3].lower()})
    assert response.status_code == 200
    assert claims(response.json()["access"])["amr"] == ["pwd", "mfa"]
    assert recovery.remaining(user) == 9
    token = login(client).json()["mfa_token"]
    reused = post(client, "/api/auth/mfa", {"mfa_token": token, "code": codes[3]})
    assert reused.status_code == 401


def test_device_backoff_gives_429_with_retry_after(
    user: Any, client: Client, clock: FakeClock
) -> None:
    make_device(user)
    token = login(client).json()["mfa_token"]
    assert post(client, "/api/auth/mfa", {"mfa_token": token, "code": "000000"}).status_code == 401
    early = post(client, "/api/auth/mfa", {"mfa_token": token, "code": "000000"})
    assert early.status_code == 429 and early["Retry-After"] == "1"
    clock.advance(1)
    assert post(client, "/api/auth/mfa", {"mfa_token": token, "code": "000000"}).status_code == 401
    throttled = post(client, "/api/auth/mfa", {"mfa_token": token, "code": code_now(clock)})
    assert throttled.status_code == 429
    assert throttled["Retry-After"] == "2"
    assert throttled.json()["error"] == "mfa_throttled"
    # The refusal did not spend an attempt of the mfa_token.
    assert MFAChallenge.objects.get().attempts == 2


def test_per_user_limit_gives_429(
    user: Any, client: Client, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "USER_MAX_FAILURES", 3)
    monkeypatch.setattr(devices, "THROTTLE_FACTOR", 0.001)
    # Two minutes before the per-user window ends: it ends within the mfa_token's life.
    clock.t = (clock.t // throttle.FAILURE_WINDOW + 1) * throttle.FAILURE_WINDOW - 120
    make_device(user)
    for _ in range(3):
        token = login(client).json()["mfa_token"]
        clock.advance(1)
        assert (
            post(client, "/api/auth/mfa", {"mfa_token": token, "code": "000000"}).status_code == 401
        )
    token = login(client).json()["mfa_token"]
    clock.advance(1)
    refused = post(client, "/api/auth/mfa", {"mfa_token": token, "code": code_now(clock)})
    assert refused.status_code == 429
    retry = int(refused["Retry-After"])
    assert 1 <= retry <= 900
    clock.advance(retry)
    clock.next_step()
    ok = post(client, "/api/auth/mfa", {"mfa_token": token, "code": code_now(clock)})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        "null",
        {"mfa_token": "x"},
        {"mfa_token": 1, "code": "123456"},
        {"mfa_token": "x" * 500, "code": "123456"},
        {"mfa_token": "x", "code": "1" * 200},
        "\xff\xfe",
    ],
)
def test_bad_input_is_a_400(client: Client, body: Any) -> None:
    response = post(client, "/api/auth/mfa", body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_unknown_token_and_wrong_method(client: Client) -> None:
    response = post(client, "/api/auth/mfa", {"mfa_token": "nope", "code": "123456"})
    assert response.status_code == 401
    assert client.get("/api/auth/mfa").status_code == 405


def test_challenge_count_is_bounded(user: Any, clock: FakeClock) -> None:
    make_device(user)
    for _ in range(8):
        assert mfa_challenge(None, user) is not None  # type: ignore[arg-type]
    assert MFAChallenge.objects.filter(user=user).count() <= 5


@override_settings(HARDENING_MFA_REQUIRED="staff")
def test_policy_for_token_users_enroll_then_login(
    django_user_model: Any, client: Client, clock: FakeClock
) -> None:
    django_user_model.objects.create_user("boss", password=PASSWORD, is_staff=True)
    access = login(client, "boss").json()["access"]
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {access}"}
    refused = client.get("/api/me", **bearer)
    assert refused.status_code == 403 and refused.json()["error"] == "mfa_required"
    created = client.post("/api/mfa/totp", "{}", content_type="application/json", **bearer)
    assert created.status_code == 201  # enrollment stays reachable
    secret = created.json()["secret"]
    from hardening.mfa.totp import code_at

    code = code_at(secret, int(clock.t // 30), digits=6)
    confirm = client.post(
        "/api/mfa/totp/confirm",
        json.dumps({"code": code}),
        content_type="application/json",
        **bearer,
    )
    assert confirm.status_code == 200
    clock.next_step()
    token = login(client, "boss").json()["mfa_token"]
    code = code_at(secret, int(clock.t // 30), digits=6)
    access = post(client, "/api/auth/mfa", {"mfa_token": token, "code": code}).json()["access"]
    me = client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert me.status_code == 200 and me.json()["mfa"] is True
