"""``/account/login/``: the session login with the MFA step (in-process)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from hardening.mfa.models import TOTPDevice
from hardening.mfa.policy import SESSION_KEY
from hardening.mfa.signin import PENDING, PENDING_ATTEMPTS, PENDING_SECONDS
from tests.helpers.clock import FakeClock
from tests.helpers.mfa import PASSWORD, code_now

pytestmark = pytest.mark.django_db


def _password(client: Client, password: str = PASSWORD, next_: str = "") -> Any:
    data = {"step": "password", "username": "alice", "password": password, "next": next_}
    return client.post("/account/login/", data)


def _code(client: Client, code: str) -> Any:
    return client.post("/account/login/", {"step": "code", "code": code})


def test_anonymous_mfa_page_lands_on_the_login_page(client: Client) -> None:
    response = client.get("/account/mfa/")
    assert response.status_code == 302
    assert response["Location"] == "/account/login/?next=/account/mfa/"
    page = client.get(response["Location"])
    assert page.status_code == 200 and b'id="password-form"' in page.content
    assert b"/account/hardening.css" in page.content and b"style=" not in page.content


def test_the_stylesheet_is_served_by_the_app(client: Client) -> None:
    response = client.get("/account/hardening.css")
    assert response.status_code == 200 and response["Content-Type"] == "text/css"
    assert b"main" in b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_wrong_password_is_401_and_says_what_to_do(client: Client, user: Any) -> None:
    response = _password(client, "wrong")
    assert response.status_code == 401 and b"Wrong username or password" in response.content
    assert "_auth_user_id" not in client.session


def test_a_user_without_mfa_is_logged_in_at_once(client: Client, user: Any) -> None:
    response = _password(client, next_="/api/me")
    assert response.status_code == 302 and response["Location"] == "/api/me"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_an_unsafe_next_is_ignored(client: Client, user: Any) -> None:
    response = _password(client, next_="https://evil.example/")
    assert response["Location"] == "/account/mfa/"


def test_mfa_user_is_pending_until_the_code(
    client: Client, user: Any, device: TOTPDevice, clock: FakeClock
) -> None:
    response = _password(client)
    assert response.status_code == 200 and b'id="code-form"' in response.content
    assert "_auth_user_id" not in client.session  # not logged in by the password alone
    wrong = _code(client, "000000" if code_now(clock) != "000000" else "111111")
    assert wrong.status_code == 401 and b"attempts left" in wrong.content
    clock.advance(5)  # past the device back-off
    response = _code(client, code_now(clock))
    assert response.status_code == 302 and response["Location"] == "/account/mfa/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session[SESSION_KEY]["amr"] == "otp"
    assert PENDING not in client.session


def test_a_pending_login_expires(
    client: Client, user: Any, device: TOTPDevice, clock: FakeClock
) -> None:
    _password(client)
    clock.advance(PENDING_SECONDS + 1)
    response = _code(client, code_now(clock))
    assert response.status_code == 400 and b"expired" in response.content
    assert "_auth_user_id" not in client.session


def test_too_many_wrong_codes_restart_the_login(
    client: Client, user: Any, device: TOTPDevice, clock: FakeClock
) -> None:
    _password(client)
    right = code_now(clock)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(PENDING_ATTEMPTS):
        clock.advance(60)  # past every device back-off
        response = _code(client, wrong)
    assert b"Enter your password again" in response.content
    assert PENDING not in client.session
    assert _code(client, code_now(clock)).status_code == 400


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("get", "/account/hardening.css", 200), ("post", "/account/logout/", 302)],
)
def test_an_unverified_staff_session_gets_the_stylesheet_and_can_sign_out(
    client: Client, user: Any, method: str, path: str, status: int
) -> None:
    from django.test import override_settings

    user.is_staff = True
    user.save()
    client.force_login(user)
    with override_settings(HARDENING_MFA_REQUIRED="staff"):
        response = getattr(client, method)(path, HTTP_ACCEPT="text/html,*/*")
    assert response.status_code == status
    if status == 302:
        assert response["Location"] == "/account/login/"
        assert "_auth_user_id" not in client.session


def test_a_replayed_code_is_told_to_wait_for_the_next_one() -> None:
    from django.test import RequestFactory

    from hardening.mfa import messages

    sentence = messages.refusal(RequestFactory().post("/"), None, "replay", 0)
    assert "already used" in sentence and "every 30 seconds" in sentence
