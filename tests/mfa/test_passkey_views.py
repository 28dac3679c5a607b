"""The passkey endpoints' refusals (hardening.mfa.passkey_views): every hostile or mistaken
request is a 4xx JSON answer, never a 500; removal keeps the account's other factors; the
session's passkey step completes a pending password login, can trust the browser, and
counts refused assertions against the per-user throttle."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client, override_settings

from hardening.mfa import signin, throttle, trusted
from hardening.mfa.models import RecoveryCode, TrustedDevice, WebAuthnCredential
from hardening.mfa.policy import SESSION_KEY
from hardening.observability.metrics import WEBAUTHN_CEREMONIES
from tests.helpers.clock import FakeClock
from tests.helpers.mfa import PASSWORD, make_device
from tests.helpers.webauthn import SoftAuthenticator, b64

pytestmark = pytest.mark.django_db

OPTIONS = "/api/mfa/webauthn/verify/options"
VERIFY = "/api/mfa/webauthn/verify"
PASSKEYS = "/api/mfa/webauthn"
REGISTER = "/api/mfa/webauthn/register"


def post(client: Client, path: str, body: Any = None, method: str = "post") -> Any:
    data = json.dumps(body if body is not None else {})
    return getattr(client, method)(path, data, content_type="application/json")


def register(client: Client, key: SoftAuthenticator, name: str) -> Any:
    options = post(client, REGISTER + "/options")
    assert options.status_code == 200, options.content
    return post(
        client, REGISTER, {"name": name, "credential": key.create(options.json()["publicKey"])}
    )


def step(client: Client, key: SoftAuthenticator, **extra: Any) -> Any:
    """The session's passkey step: options, then the assertion."""
    options = post(client, OPTIONS)
    assert options.status_code == 200, options.content
    return post(client, VERIFY, {"credential": key.get(options.json()["publicKey"]), **extra})


def refused(response: Any, status: int, error: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"] == error


def sample(ceremony: str, outcome: str) -> float:
    return float(WEBAUTHN_CEREMONIES.labels(ceremony=ceremony, outcome=outcome)._value.get())


@pytest.fixture
def key(user: Any) -> SoftAuthenticator:
    """alice's first passkey (registered from a fresh session: it was her first factor)."""
    soft = SoftAuthenticator()
    first = Client()
    first.force_login(user)
    assert register(first, soft, "laptop").status_code == 201
    return soft


@pytest.fixture
def verified(user: Any, key: SoftAuthenticator) -> Client:
    """A session of alice that passed its passkey step."""
    session = Client()
    session.force_login(user)
    assert step(session, key).status_code == 200
    return session


# Removal


def test_removal_needs_an_integer_id(verified: Client) -> None:
    for body in ({"id": "1"}, {"id": True}, {"id": 1.0}, {}, [1]):
        refused(post(verified, PASSKEYS, body, method="delete"), 400, "invalid_request")
    assert WebAuthnCredential.objects.count() == 1


def test_removing_an_unknown_or_foreign_passkey_is_404(
    verified: Client, django_user_model: Any
) -> None:
    bob = django_user_model.objects.create_user("bob", password=PASSWORD)
    bobs = SoftAuthenticator()
    session = Client()
    session.force_login(bob)
    assert register(session, bobs, "bob's").status_code == 201
    bobs_row = WebAuthnCredential.objects.get(user=bob)
    refused(post(verified, PASSKEYS, {"id": bobs_row.pk}, method="delete"), 404, "not_found")
    refused(post(verified, PASSKEYS, {"id": 10**9}, method="delete"), 404, "not_found")
    assert WebAuthnCredential.objects.filter(pk=bobs_row.pk).exists()
    assert RecoveryCode.objects.filter(user=bob).exists()


@override_settings(HARDENING_MFA_TRUSTED_DEVICE_DAYS=30)
def test_removing_one_of_two_passkeys_keeps_the_other_factors(
    user: Any, key: SoftAuthenticator, verified: Client, events: Any
) -> None:
    assert register(verified, SoftAuthenticator(), "phone").status_code == 201
    step(verified, key, trust=True)  # a trusted browser too
    codes, browsers = RecoveryCode.objects.count(), TrustedDevice.objects.count()
    assert codes == 10 and browsers == 1
    phone = WebAuthnCredential.objects.get(user=user, name="phone")
    before = sample("remove", "ok")
    response = post(verified, PASSKEYS, {"id": phone.pk}, method="delete")
    assert response.status_code == 204
    assert list(WebAuthnCredential.objects.values_list("name", flat=True)) == ["laptop"]
    # Not the last factor: the recovery codes and the trusted browser stay.
    assert RecoveryCode.objects.count() == codes and TrustedDevice.objects.count() == browsers
    assert sample("remove", "ok") == before + 1
    assert ("mfa.passkey_removed", {"passkey_id": phone.pk}) in [
        (name, {"passkey_id": fields.get("passkey_id")}) for name, fields in events
    ]


# Registration


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("   ", "invalid_request"),
        ("x" * 65, "invalid_request"),
        (7, "invalid_request"),
        (["laptop"], "invalid_request"),
        ("a\x00b", "parse_error"),  # the JSON parser refuses NUL before the view
    ],
)
def test_a_bad_passkey_name_is_400(verified: Client, name: Any, error: str) -> None:
    response = post(verified, REGISTER, {"name": name, "credential": {}})
    refused(response, 400, error)
    assert WebAuthnCredential.objects.count() == 1


def test_registration_from_a_session_without_the_mfa_step_is_403(user: Any, client: Client) -> None:
    make_device(user)  # alice has a factor; this session did not prove it
    client.force_login(user)
    refused(post(client, REGISTER, {"name": "new", "credential": {}}), 403, "mfa_required")
    assert not WebAuthnCredential.objects.exists()


def test_a_taken_name_or_an_enrolled_authenticator_is_409(
    key: SoftAuthenticator, verified: Client
) -> None:
    response = register(verified, SoftAuthenticator(), " laptop ")  # stripped: the same name
    refused(response, 409, "passkey_exists")
    before = sample("register", "duplicate")
    refused(register(verified, key, "again"), 409, "passkey_exists")  # the same credential
    assert sample("register", "duplicate") == before + 1
    assert WebAuthnCredential.objects.count() == 1


def test_a_malformed_credential_is_400(verified: Client) -> None:
    for credential in (None, "x", {"id": "a"}, {"id": 5, "response": {}}):
        response = post(verified, REGISTER, {"name": "phone", "credential": credential})
        refused(response, 400, "invalid_request")
    assert WebAuthnCredential.objects.count() == 1


# The session's passkey step


def test_the_step_needs_a_user(client: Client) -> None:
    refused(post(client, OPTIONS), 401, "not_authenticated")
    refused(post(client, VERIFY, {"credential": {}}), 401, "not_authenticated")
    assert client.get(OPTIONS).status_code == 405


@override_settings(HARDENING_WEBAUTHN_RP_ID="")
def test_the_step_without_passkeys_on_the_site_is_503(user: Any, client: Client) -> None:
    client.force_login(user)
    before = sample("mfa_options", "unavailable")
    refused(post(client, OPTIONS), 503, "webauthn_unavailable")
    assert sample("mfa_options", "unavailable") == before + 1


def test_the_step_completes_a_pending_password_login(
    user: Any, key: SoftAuthenticator, client: Client
) -> None:
    page = client.post(
        "/account/login/", {"step": "password", "username": "alice", "password": PASSWORD}
    )
    assert page.status_code == 200 and signin.PENDING in client.session
    assert "_auth_user_id" not in client.session  # not signed in before the second factor
    response = step(client, key, next="/api/me")
    assert response.status_code == 200 and response.json() == {"next": "/api/me"}
    assert signin.PENDING not in client.session
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session[SESSION_KEY]["amr"] == "hwk"
    assert client.get("/api/me").json()["mfa"] is True


def test_an_expired_pending_login_is_401(
    key: SoftAuthenticator, client: Client, clock: FakeClock
) -> None:
    client.post("/account/login/", {"step": "password", "username": "alice", "password": PASSWORD})
    options = post(client, OPTIONS).json()["publicKey"]
    clock.advance(signin.PENDING_SECONDS + 1)
    response = post(client, VERIFY, {"credential": key.get(options)})
    refused(response, 401, "not_authenticated")
    assert "_auth_user_id" not in client.session


def test_the_step_never_redirects_off_site(user: Any, key: SoftAuthenticator) -> None:
    for target in ("https://evil.example/", "//evil.example/x", 5, ["/api/me"]):
        session = Client()
        session.force_login(user)
        response = step(session, key, next=target)
        assert response.status_code == 200 and response.json() == {"next": "/account/mfa/"}


@override_settings(HARDENING_MFA_TRUSTED_DEVICE_DAYS=30)
def test_the_step_trusts_the_browser_only_when_asked(
    user: Any, key: SoftAuthenticator, client: Client
) -> None:
    client.force_login(user)
    assert trusted.COOKIE not in step(client, key, trust="yes").cookies  # True only
    assert not TrustedDevice.objects.exists()
    response = step(client, key, trust=True)
    assert response.status_code == 200
    cookie = response.cookies[trusted.COOKIE]
    assert cookie["httponly"] and cookie["max-age"] == 30 * 86400
    assert TrustedDevice.objects.filter(user=user).count() == 1


def test_a_replayed_or_expired_assertion_is_refused(
    user: Any, key: SoftAuthenticator, client: Client, clock: FakeClock
) -> None:
    client.force_login(user)
    options = post(client, OPTIONS).json()["publicKey"]
    assertion = key.get(options)
    assert post(client, VERIFY, {"credential": assertion}).status_code == 200
    refused(post(client, VERIFY, {"credential": assertion}), 401, "invalid_assertion")
    options = post(client, OPTIONS).json()["publicKey"]
    clock.advance(301)
    refused(post(client, VERIFY, {"credential": key.get(options)}), 401, "invalid_assertion")
    # A spent or expired challenge is not a guess at the factor: not counted.
    assert throttle.attempts_left(user.pk, "127.0.0.1") == throttle.USER_MAX_FAILURES


def test_malformed_assertions_are_400_and_not_counted(
    user: Any, key: SoftAuthenticator, client: Client
) -> None:
    client.force_login(user)
    options = post(client, OPTIONS).json()["publicKey"]
    good = key.get(options)
    hostile = [
        None,
        "x",
        {"id": key.id},
        {"id": "", "response": {}},
        {"id": key.id, "response": {}},
        {**good, "response": {**good["response"], "clientDataJSON": "!!"}},
        {**good, "response": {**good["response"], "clientDataJSON": "e30"}},  # {}
        {**good, "response": {**good["response"], "clientDataJSON": "x" * 9000}},
        {**good, "clientExtensionResults": {"padding": "x" * 64_000}},  # too big
    ]
    for credential in hostile:
        refused(post(client, VERIFY, {"credential": credential}), 400, "invalid_request")
    refused(client.post(VERIFY, b"\xff", content_type="application/json"), 400, "invalid_request")
    assert throttle.attempts_left(user.pk, "127.0.0.1") == throttle.USER_MAX_FAILURES
    assert post(client, VERIFY, {"credential": good}).status_code == 200  # still usable


def test_wrong_passkeys_are_counted_until_the_user_is_throttled(
    user: Any, key: SoftAuthenticator, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "USER_MAX_FAILURES", 3)
    client.force_login(user)
    stranger = SoftAuthenticator()
    before = sample("mfa", "invalid")
    # A passkey of nobody (unknown); alice's passkey with a bad signature, then naming
    # another account's user handle (both invalid).
    refused(step(client, stranger), 401, "invalid_assertion")
    options = post(client, OPTIONS).json()["publicKey"]
    forged = key.get(options)
    forged["response"]["signature"] = stranger.get(options)["response"]["signature"]
    refused(post(client, VERIFY, {"credential": forged}), 401, "invalid_assertion")
    options = post(client, OPTIONS).json()["publicKey"]
    other = key.get(options)
    other["response"]["userHandle"] = b64(b"someone else")
    refused(post(client, VERIFY, {"credential": other}), 401, "invalid_assertion")
    assert sample("mfa", "invalid") == before + 2
    assert throttle.attempts_left(user.pk, "127.0.0.1") == 0
    # Now even the right passkey waits for the window to end.
    options = post(client, OPTIONS).json()["publicKey"]
    response = post(client, VERIFY, {"credential": key.get(options)})
    refused(response, 429, "mfa_throttled")
    assert 1 <= int(response["Retry-After"]) <= throttle.FAILURE_WINDOW
    assert SESSION_KEY not in client.session
