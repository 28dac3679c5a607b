"""The passkey endpoints end to end through the URLs, with a software authenticator: the
contract (``factors`` in ``mfa_required``; the page offers registration), the token login's
second factor (``amr`` ``hwk``/``swk``), passwordless login with its limits, removal only
from an MFA-verified session, and a cloned authenticator refused."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from django.test import Client, override_settings

from hardening.mfa import throttle
from hardening.mfa.models import RecoveryCode, WebAuthnCredential
from hardening.mfa.policy import SESSION_KEY
from tests.helpers.mfa import PASSWORD, make_device
from tests.helpers.webauthn import SoftAuthenticator

pytestmark = pytest.mark.django_db


def post(client: Client, path: str, body: Any = None, method: str = "post") -> Any:
    data = json.dumps(body if body is not None else {})
    return getattr(client, method)(path, data, content_type="application/json")


def claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def register(client: Client, key: SoftAuthenticator, name: str = "laptop") -> Any:
    options = post(client, "/api/mfa/webauthn/register/options")
    assert options.status_code == 200, options.content
    return post(
        client,
        "/api/mfa/webauthn/register",
        {"name": name, "credential": key.create(options.json()["publicKey"])},
    )


@pytest.fixture
def key(user: Any) -> SoftAuthenticator:
    """alice's passkey, registered through the API from a fresh session."""
    soft = SoftAuthenticator()
    client = Client()
    client.force_login(user)
    response = register(client, soft)
    assert response.status_code == 201, response.content
    assert len(response.json()["recovery_codes"]) == 10
    return soft


def token_login(client: Client, username: str = "alice") -> Any:
    return post(client, "/api/auth/token", {"username": username, "password": PASSWORD})


def test_contract_token_login_lists_webauthn_among_the_factors(
    key: SoftAuthenticator, client: Client
) -> None:
    body = token_login(client).json()
    assert body["mfa_required"] is True
    assert body["factors"] == ["webauthn", "recovery"]


def test_factors_list_totp_too(user: Any, key: SoftAuthenticator, client: Client) -> None:
    make_device(user)
    assert token_login(client).json()["factors"] == ["totp", "webauthn", "recovery"]


def test_passkey_as_the_second_factor_of_the_token_login(
    key: SoftAuthenticator, client: Client
) -> None:
    token = token_login(client).json()["mfa_token"]
    options = post(client, "/api/auth/mfa/webauthn", {"mfa_token": token})
    assert options.status_code == 200 and "no-store" in options["Cache-Control"]
    public_key = options.json()["publicKey"]
    assert [c["id"] for c in public_key["allowCredentials"]] == [key.id]
    response = post(client, "/api/auth/mfa", {"mfa_token": token, "webauthn": key.get(public_key)})
    assert response.status_code == 200, response.content
    assert claims(response.json()["access"])["amr"] == ["pwd", "hwk"]
    me = client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert me.json()["mfa"] is True


def test_an_assertion_for_another_mfa_token_is_refused(
    key: SoftAuthenticator, client: Client
) -> None:
    first = token_login(client).json()["mfa_token"]
    second = token_login(client).json()["mfa_token"]
    public_key = post(client, "/api/auth/mfa/webauthn", {"mfa_token": first}).json()["publicKey"]
    response = post(client, "/api/auth/mfa", {"mfa_token": second, "webauthn": key.get(public_key)})
    assert response.status_code == 401 and response.json()["error"] == "invalid_assertion"
    assert response.json()["attempts_left"] == 4


def test_a_cloned_authenticator_is_refused(key: SoftAuthenticator, client: Client) -> None:
    token = token_login(client).json()["mfa_token"]
    public_key = post(client, "/api/auth/mfa/webauthn", {"mfa_token": token}).json()["publicKey"]
    assert post(client, "/api/auth/mfa", {"mfa_token": token, "webauthn": key.get(public_key)})
    token = token_login(client).json()["mfa_token"]
    public_key = post(client, "/api/auth/mfa/webauthn", {"mfa_token": token}).json()["publicKey"]
    clone = key.get(public_key, step=-1)  # the counter went backwards: another copy signs
    response = post(client, "/api/auth/mfa", {"mfa_token": token, "webauthn": clone})
    assert response.status_code == 401 and response.json()["error"] == "invalid_assertion"


def passwordless(client: Client, key: SoftAuthenticator) -> Any:
    options = post(client, "/api/auth/passkey/options").json()
    body = {"credential": key.get(options["publicKey"]), "ceremony": options["ceremony"]}
    return post(client, "/api/auth/passkey", body)


def test_passwordless_login_issues_tokens(key: SoftAuthenticator, client: Client) -> None:
    options = post(client, "/api/auth/passkey/options").json()
    public_key = options["publicKey"]
    assert public_key["userVerification"] == "required"
    assert public_key.get("allowCredentials", []) == []  # discoverable credentials
    body = {"credential": key.get(public_key), "ceremony": options["ceremony"]}
    response = post(client, "/api/auth/passkey", body)
    assert response.status_code == 200, response.content
    assert claims(response.json()["access"])["amr"] == ["hwk", "mfa"]
    again = post(client, "/api/auth/passkey", body)  # the ceremony is spent
    assert again.status_code == 401


def test_passwordless_ceremonies_are_not_shared(key: SoftAuthenticator, client: Client) -> None:
    mine = post(client, "/api/auth/passkey/options").json()
    theirs = post(client, "/api/auth/passkey/options").json()
    body = {"credential": key.get(mine["publicKey"]), "ceremony": theirs["ceremony"]}
    assert post(client, "/api/auth/passkey", body).status_code == 401
    assert post(client, "/api/auth/passkey", {"credential": body["credential"]}).status_code == 400


def test_passwordless_login_sets_a_verified_session(
    user: Any, key: SoftAuthenticator, client: Client
) -> None:
    public_key = post(client, "/api/auth/passkey/options", {"session": True}).json()["publicKey"]
    response = post(
        client,
        "/api/auth/passkey",
        {"credential": key.get(public_key), "session": True, "next": "/api/me"},
    )
    assert response.status_code == 200 and response.json()["next"] == "/api/me"
    assert client.session[SESSION_KEY]["user"] == str(user.pk)
    assert client.get("/api/me").json()["mfa"] is True


def test_passwordless_without_user_verification_is_refused(user: Any, client: Client) -> None:
    soft = SoftAuthenticator(uv=False)
    session = Client()
    session.force_login(user)
    assert register(session, soft).status_code == 201
    assert passwordless(client, soft).status_code == 401


def test_passwordless_unknown_credentials_are_limited_per_address(
    key: SoftAuthenticator, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "IP_MAX_FAILURES", 3)  # below the example's rate limit
    stranger = SoftAuthenticator()
    for _ in range(throttle.IP_MAX_FAILURES):
        assert passwordless(client, stranger).status_code == 401
    response = passwordless(client, key)
    assert response.status_code == 429 and response["Retry-After"]


def test_passwordless_respects_the_account_lock(key: SoftAuthenticator, client: Client) -> None:
    for _ in range(5):
        post(client, "/api/auth/token", {"username": "alice", "password": "wrong"})
    response = passwordless(client, key)
    assert response.status_code == 429 and response.json()["error"] == "account_locked"


def test_adding_and_removing_need_an_mfa_verified_session(
    user: Any, key: SoftAuthenticator
) -> None:
    password_only = Client()
    password_only.force_login(user)
    response = post(password_only, "/api/mfa/webauthn/register/options")
    assert response.status_code == 403 and response.json()["error"] == "mfa_required"
    row = WebAuthnCredential.objects.get(user=user)
    response = post(password_only, "/api/mfa/webauthn", {"id": row.pk}, method="delete")
    assert response.status_code == 403
    # The session's own passkey step verifies it; then removal works.
    public_key = post(password_only, "/api/mfa/webauthn/verify/options").json()["publicKey"]
    verified = post(password_only, "/api/mfa/webauthn/verify", {"credential": key.get(public_key)})
    assert verified.status_code == 200, verified.content
    assert password_only.session[SESSION_KEY]["amr"] == "hwk"
    listed = password_only.get("/api/mfa/webauthn").json()["passkeys"]
    assert [p["name"] for p in listed] == ["laptop"]
    response = post(password_only, "/api/mfa/webauthn", {"id": row.pk}, method="delete")
    assert response.status_code == 204
    assert not WebAuthnCredential.objects.exists() and not RecoveryCode.objects.exists()
    assert "factors" not in token_login(Client()).json()  # no factor left: plain tokens


def test_registration_bound_to_the_session(user: Any, key: SoftAuthenticator) -> None:
    first, second = Client(), Client()
    for client in (first, second):
        client.force_login(user)
        public_key = post(client, "/api/mfa/webauthn/verify/options").json()["publicKey"]
        post(client, "/api/mfa/webauthn/verify", {"credential": key.get(public_key)})
    options = post(first, "/api/mfa/webauthn/register/options").json()["publicKey"]
    other = SoftAuthenticator()
    response = post(
        second, "/api/mfa/webauthn/register", {"name": "b", "credential": other.create(options)}
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_assertion"


def test_bad_input_is_4xx(user: Any, key: SoftAuthenticator, client: Client) -> None:
    for body in ({"credential": "x"}, {"credential": {"id": 1}}, {}):
        assert post(client, "/api/auth/passkey", body).status_code == 400
    token = token_login(client).json()["mfa_token"]
    response = post(client, "/api/auth/mfa", {"mfa_token": token, "webauthn": {"id": "x" * 5000}})
    assert response.status_code == 400
    response = client.post("/api/auth/passkey", b"\xff", content_type="application/json")
    assert response.status_code == 400


def test_the_page_offers_passkey_registration(user: Any, client: Client) -> None:
    client.force_login(user)
    page = client.get("/account/mfa/").content.decode()
    assert 'data-passkey="register"' in page
    assert 'src="/account/mfa/passkeys.js"' in page and "<script>" not in page
    script = client.get("/account/mfa/passkeys.js")
    assert script.status_code == 200 and script["Content-Type"] == "text/javascript"


def test_passkey_only_users_regenerate_recovery_codes_after_a_recent_step(
    user: Any, key: SoftAuthenticator, clock: Any
) -> None:
    client = Client()
    client.force_login(user)
    public_key = post(client, "/api/mfa/webauthn/verify/options").json()["publicKey"]
    assert post(client, "/api/mfa/webauthn/verify", {"credential": key.get(public_key)})
    page = client.get("/account/mfa/").content.decode()
    assert 'id="regen-passkey"' in page and 'id="regen-code"' not in page
    old = set(RecoveryCode.objects.values_list("code_hash", flat=True))
    response = client.post("/account/mfa/", {"action": "regenerate"})
    assert response.status_code == 200 and "New recovery codes." in response.content.decode()
    assert old.isdisjoint(RecoveryCode.objects.values_list("code_hash", flat=True))
    clock.advance(301)
    assert client.post("/account/mfa/", {"action": "regenerate"}).status_code == 403


@override_settings(HARDENING_WEBAUTHN_RP_ID="")
def test_passkeys_turned_off_answer_503_and_leave_the_pages_alone(
    user: Any, client: Client
) -> None:
    client.force_login(user)
    response = post(client, "/api/mfa/webauthn/register/options")
    assert response.status_code == 503 and response.json()["error"] == "webauthn_unavailable"
    assert post(Client(), "/api/auth/passkey/options").status_code == 503
    assert "passkeys.js" not in client.get("/account/mfa/").content.decode()
    assert "passkey" not in Client().get("/account/login/").content.decode()


def test_api_clients_register_with_an_mfa_token(key: SoftAuthenticator, client: Client) -> None:
    access = passwordless(client, key).json()["access"]  # amr hwk: MFA-verified
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {access}"}
    api = Client()
    options = api.post("/api/mfa/webauthn/register/options", "{}", "application/json", **bearer)
    assert options.status_code == 200, options.content
    second = SoftAuthenticator(backup=True, counter=False)
    body = {"name": "phone", "credential": second.create(options.json()["publicKey"])}
    response = api.post(
        "/api/mfa/webauthn/register", json.dumps(body), "application/json", **bearer
    )
    assert response.status_code == 201 and response.json()["recovery_codes"] == []
    listed = api.get("/api/mfa/webauthn", **bearer).json()["passkeys"]
    assert [(p["name"], p["synced"]) for p in listed] == [("laptop", False), ("phone", True)]


def test_a_passkey_session_login_is_csrf_checked_a_token_login_is_not() -> None:
    browser = Client(enforce_csrf_checks=True)
    response = post(browser, "/api/auth/passkey/options", {"session": True})
    assert response.status_code == 403 and response.json()["error"] == "csrf_failed"
    response = post(browser, "/api/auth/passkey", {"session": True, "credential": {}})
    assert response.status_code == 403
    assert post(browser, "/api/auth/passkey/options").status_code == 200
    assert post(browser, "/api/mfa/webauthn/verify/options").status_code == 403  # CSRF first
