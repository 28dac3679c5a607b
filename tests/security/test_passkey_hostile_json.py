"""Issue 12 item 5 for the passkey endpoints (issue 19): any body, anonymous, with a session
and with a bearer token, answers JSON and never a 5xx; options may succeed (their body is
optional)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings

from tests.helpers.hostile import HOSTILE, bodies, send
from tests.helpers.hostile import clients as make_clients

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients(django_user_model: Any) -> dict[str, tuple[Client, dict[str, str]]]:
    return make_clients(django_user_model)


ENDPOINTS = [
    ("post", "/api/auth/mfa/webauthn"),
    ("post", "/api/auth/passkey/options"),
    ("post", "/api/auth/passkey"),
    ("post", "/api/mfa/webauthn/register/options"),
    ("post", "/api/mfa/webauthn/register"),
    ("delete", "/api/mfa/webauthn"),
    ("post", "/api/mfa/webauthn/verify/options"),
    ("post", "/api/mfa/webauthn/verify"),
]
#: Options calls whose body is optional: they may answer 200.
MAY_SUCCEED = {
    "/api/auth/passkey/options",
    "/api/mfa/webauthn/register/options",
    "/api/mfa/webauthn/verify/options",
}


def _check(response: Any, method: str, path: str, body: bytes) -> None:
    status = response.status_code
    where = (method, path, body[:80], status, response.content[:200])
    assert status < 500, where
    assert response["Content-Type"].startswith("application/json"), where
    if path in MAY_SUCCEED and status < 300:
        return
    assert 400 <= status < 500 and status != 429, where
    payload = response.json()
    assert isinstance(payload.get("error"), str) and payload["error"], where
    assert payload.get("request_id") == response["X-Request-ID"], where


@pytest.mark.parametrize("body", HOSTILE, ids=[repr(b[:24]) for b in HOSTILE])
def test_known_hostile_bodies_are_4xx(clients: Any, body: bytes) -> None:
    for client, extra in clients.values():
        for method, path in ENDPOINTS:
            _check(send(client, method, path, body, extra), method, path, body)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_any_body_is_never_a_500(clients: Any, body: bytes) -> None:
    for client, extra in clients.values():
        for method, path in ENDPOINTS:
            _check(send(client, method, path, body, extra), method, path, body)
