"""The /account/mfa/ page (session users) and the policy middleware."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from django.test import Client, override_settings

from hardening.mfa import recovery, throttle
from hardening.mfa.models import TOTPDevice
from hardening.mfa.totp import code_at
from tests.helpers.clock import FakeClock
from tests.helpers.mfa import code_now, make_device

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get("/account/mfa/")
    assert response.status_code == 302 and "next=/account/mfa/" in response["Location"]


def test_enroll_confirm_and_recovery_codes(user: Any, client: Client, clock: FakeClock) -> None:
    client.force_login(user)
    page = client.get("/account/mfa/").content.decode()
    assert 'value="enroll"' in page
    page = client.post("/account/mfa/", {"action": "enroll", "name": "phone"}).content.decode()
    assert "<svg" in page and "style=" not in page
    # No inline script: the one script is the static passkey file (issue 19).
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/account/mfa/passkeys.js" defer>']
    secret = re.search(r'<code id="secret">([A-Z2-7]+)</code>', page)
    assert secret is not None
    code = code_at(secret.group(1), int(clock.t // 30), digits=6)
    done = client.post("/account/mfa/", {"action": "confirm", "code": code})
    assert done.status_code == 200
    html = done.content.decode()
    assert html.count("<li><code>") == 10 and "Two-factor authentication is on." in html
    assert TOTPDevice.objects.get(user=user).confirmed
    # Shown once: a reload lists no codes.
    assert "<li><code>" not in client.get("/account/mfa/").content.decode()


def test_verify_with_safe_next(user: Any, client: Client, clock: FakeClock) -> None:
    make_device(user)
    client.force_login(user)
    assert 'value="verify"' in client.get("/account/mfa/?next=/admin/").content.decode()
    bad = client.post("/account/mfa/", {"action": "verify", "code": "000000", "next": "/admin/"})
    assert bad.status_code == 403
    clock.advance(1)
    evil = client.post(
        "/account/mfa/",
        {"action": "verify", "code": code_now(clock), "next": "https://evil.example/"},
    )
    assert evil.status_code == 200  # verified, but no open redirect
    assert client.get("/api/me").json()["mfa"] is True


def _error(response: Any) -> str:
    found = re.search(r'<p id="error"[^>]*>([^<]*)</p>', response.content.decode())
    assert found is not None, response.content.decode()
    return found.group(1)


def test_throttled_page_has_retry_after(user: Any, client: Client, clock: FakeClock) -> None:
    make_device(user)
    client.force_login(user)
    client.post("/account/mfa/", {"action": "verify", "code": "000000"})
    response = client.post("/account/mfa/", {"action": "verify", "code": code_now(clock)})
    assert response.status_code == 429 and response["Retry-After"] == "1"
    assert _error(response) == "Too many attempts. Wait 1 second, then try again with a new code."
    assert 'id="back"' in response.content.decode()  # and a way back
    # The device back-off doubles: a second failure after the first wait means 2 seconds.
    clock.advance(1.5)
    client.post("/account/mfa/", {"action": "verify", "code": "000000"})
    response = client.post("/account/mfa/", {"action": "verify", "code": code_now(clock)})
    assert response.status_code == 429 and response["Retry-After"] == "2"
    assert _error(response) == "Too many attempts. Wait 2 seconds, then try again with a new code."


def test_the_per_user_limit_says_how_long_to_wait(
    user: Any, client: Client, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "USER_MAX_FAILURES", 2)
    monkeypatch.setattr(throttle, "FAILURE_WINDOW", 900)
    make_device(user)
    client.force_login(user)
    for _ in range(2):
        client.post("/account/mfa/", {"action": "verify", "code": "000000"})
        clock.advance(5)  # past the device back-off: the user's limit is what answers
    left = math.ceil((int(clock.t // 900) + 1) * 900 - clock.t)
    assert 1 < left <= 900
    response = client.post("/account/mfa/", {"action": "verify", "code": code_now(clock)})
    assert response.status_code == 429 and response["Retry-After"] == str(left)
    assert _error(response) == (
        f"Too many attempts. Wait {left} seconds, then try again with a new code."
    )


def test_regenerate_and_disable(user: Any, client: Client, clock: FakeClock) -> None:
    make_device(user)
    recovery.generate(user)
    client.force_login(user)
    client.post("/account/mfa/", {"action": "verify", "code": code_now(clock)})
    clock.next_step()
    regen = client.post("/account/mfa/", {"action": "regenerate", "code": code_now(clock)})
    assert regen.content.decode().count("<li><code>") == 10
    clock.next_step()
    off = client.post("/account/mfa/", {"action": "disable", "code": code_now(clock)})
    assert "is off" in off.content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists() and recovery.remaining(user) == 0


def test_unknown_action_and_missing_code(user: Any, client: Client) -> None:
    make_device(user)
    client.force_login(user)
    assert client.post("/account/mfa/", {"action": "verify"}).status_code == 400
    assert client.post("/account/mfa/", {"action": "x", "code": "1"}).status_code == 400
    assert client.put("/account/mfa/").status_code == 405


@override_settings(HARDENING_MFA_REQUIRED="staff")
def test_policy_middleware_for_staff_sessions(
    django_user_model: Any, client: Client, clock: FakeClock
) -> None:
    staff = django_user_model.objects.create_user("bob", password="x", is_staff=True)
    client.force_login(staff)
    page = client.get("/admin/", HTTP_ACCEPT="text/html")
    assert page.status_code == 302 and page["Location"].startswith("/account/mfa/?next=")
    api = client.get("/api/me")
    assert api.status_code == 403 and api.json()["error"] == "mfa_required"
    assert client.get("/account/mfa/").status_code == 200  # enrollment stays reachable
    make_device(staff)
    client.post("/account/mfa/", {"action": "verify", "code": code_now(clock)})
    assert client.get("/api/me").status_code == 200
    assert client.get("/admin/", HTTP_ACCEPT="text/html").status_code == 200


@override_settings(HARDENING_MFA_REQUIRED="staff")
def test_policy_ignores_non_staff(user: Any, client: Client) -> None:
    client.force_login(user)
    assert client.get("/api/me").status_code == 200
