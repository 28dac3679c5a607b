"""The token login's MFA step (hardening.mfa.login) refusing: a malformed, unknown or spent
``mfa_token`` on the passkey path, a deactivated or locked account, a throttled user, an
undecryptable device secret (503, never a 500), passkeys turned off, a login completed
twice."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client, RequestFactory, override_settings

from hardening.mfa import lockout, throttle
from hardening.mfa.login import TOKEN_MAX_ATTEMPTS, finish
from hardening.mfa.models import MFAChallenge, TOTPDevice
from tests.helpers.clock import FakeClock
from tests.helpers.mfa import PASSWORD, code_now, make_device
from tests.helpers.webauthn import SoftAuthenticator

pytestmark = pytest.mark.django_db

MFA = "/api/auth/mfa"
OPTIONS = "/api/auth/mfa/webauthn"


def post(client: Client, path: str, body: Any) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json")


def mfa_token(client: Client, username: str = "alice") -> str:
    body = post(client, "/api/auth/token", {"username": username, "password": PASSWORD}).json()
    assert body["mfa_required"] is True, body
    return str(body["mfa_token"])


def refused(response: Any, status: int, error: str) -> None:
    assert response.status_code == status, response.content
    assert response.json()["error"] == error


@pytest.fixture
def key(user: Any) -> SoftAuthenticator:
    soft = SoftAuthenticator()
    session = Client()
    session.force_login(user)
    options = post(session, "/api/mfa/webauthn/register/options", {}).json()["publicKey"]
    created = post(
        session, "/api/mfa/webauthn/register", {"name": "key", "credential": soft.create(options)}
    )
    assert created.status_code == 201, created.content
    return soft


@pytest.mark.parametrize("token", [5, "", "x" * 129, None, ["t"]])
def test_a_malformed_mfa_token_on_the_passkey_path_is_400(
    key: SoftAuthenticator, client: Client, token: Any
) -> None:
    refused(post(client, MFA, {"mfa_token": token, "webauthn": {}}), 400, "invalid_request")
    refused(post(client, OPTIONS, {"mfa_token": token}), 400, "invalid_request")


def test_an_unknown_mfa_token_on_the_passkey_path_is_401(
    key: SoftAuthenticator, client: Client
) -> None:
    refused(post(client, OPTIONS, {"mfa_token": "nope"}), 401, "invalid_mfa_token")
    refused(post(client, MFA, {"mfa_token": "nope", "webauthn": {}}), 401, "invalid_mfa_token")


def test_malformed_assertions_spend_the_mfa_tokens_attempts(
    user: Any, key: SoftAuthenticator, client: Client
) -> None:
    token = mfa_token(client)
    for _ in range(TOKEN_MAX_ATTEMPTS):
        refused(post(client, MFA, {"mfa_token": token, "webauthn": "x"}), 400, "invalid_request")
    # Not guesses at the factor: neither the throttle nor the lockout counted them ...
    assert throttle.attempts_left(user.pk, "127.0.0.1") == throttle.USER_MAX_FAILURES
    assert lockout.blocked_for("alice") == 0
    # ... but the mfa_token is used up: even the right passkey needs a new password login.
    public_key = post(client, OPTIONS, {"mfa_token": token}).json()["publicKey"]
    response = post(client, MFA, {"mfa_token": token, "webauthn": key.get(public_key)})
    refused(response, 401, "invalid_mfa_token")


def test_a_throttled_user_is_429_before_the_passkey_is_checked(
    user: Any, key: SoftAuthenticator, client: Client
) -> None:
    token = mfa_token(client)
    public_key = post(client, OPTIONS, {"mfa_token": token}).json()["publicKey"]
    for _ in range(throttle.USER_MAX_FAILURES):
        throttle.record_failure(user.pk, "198.51.100.7")  # from another address
    response = post(client, MFA, {"mfa_token": token, "webauthn": key.get(public_key)})
    refused(response, 429, "mfa_throttled")
    assert int(response["Retry-After"]) >= 1
    assert MFAChallenge.objects.get().attempts == 0  # the mfa_token's attempt is not spent


def test_a_deactivated_users_mfa_token_is_invalid(user: Any, client: Client, clock: Any) -> None:
    make_device(user)
    token = mfa_token(client)
    user.is_active = False
    user.save()
    response = post(client, MFA, {"mfa_token": token, "code": code_now(clock)})
    refused(response, 401, "invalid_mfa_token")
    refused(post(client, OPTIONS, {"mfa_token": token}), 401, "invalid_mfa_token")


def test_a_locked_account_is_refused_without_spending_the_mfa_token(
    user: Any, client: Client, clock: FakeClock
) -> None:
    make_device(user)
    token = mfa_token(client)
    for _ in range(5):
        lockout.record_failure("alice", None)
    assert lockout.blocked_for("alice") > 0
    response = post(client, MFA, {"mfa_token": token, "code": code_now(clock)})
    refused(response, 429, "account_locked")
    assert int(response["Retry-After"]) >= 1
    assert MFAChallenge.objects.get().attempts == 0


def test_an_undecryptable_device_secret_is_503_not_500(
    user: Any, client: Client, clock: FakeClock
) -> None:
    make_device(user)
    token = mfa_token(client)
    TOTPDevice.objects.update(encrypted_secret="not a fernet token")  # a lost or wrong key
    response = post(client, MFA, {"mfa_token": token, "code": code_now(clock)})
    refused(response, 503, "mfa_unavailable")


def test_passkeys_turned_off_answer_503_to_the_options(
    key: SoftAuthenticator, client: Client
) -> None:
    token = mfa_token(client)
    with override_settings(HARDENING_WEBAUTHN_RP_ID=""):
        refused(post(client, OPTIONS, {"mfa_token": token}), 503, "webauthn_unavailable")


def test_a_login_is_completed_once(user: Any, client: Client) -> None:
    """Two requests that both passed the step race to finish: the second gets no tokens."""
    make_device(user)
    mfa_token(client)
    challenge = MFAChallenge.objects.get()
    request = RequestFactory().post(MFA)
    first = finish(request, challenge, user, ["pwd", "otp"])
    assert first.status_code == 200 and "access" in json.loads(first.content)
    second = finish(request, challenge, user, ["pwd", "otp"])
    assert second.status_code == 401
    assert json.loads(second.content)["error"] == "invalid_mfa_token"
