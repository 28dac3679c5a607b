"""Hostile bodies to the API-key and exchange-credential endpoints: a 4xx JSON error with the
request id, never a 500 (tests/helpers/hostile.py, as in tests/security/test_hostile_json.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings

from hardening.jwt.tokens import issue_token_pair
from tests.helpers.hostile import HOSTILE, bodies, check_error, send

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("post", "/api/keys"),
    ("post", "/api/keys/abcdefghijkl/rotate"),
    ("post", "/api/exchange-credentials"),
]
MAY_SUCCEED = {("post", "/api/keys")}  # every field is optional


@pytest.fixture
def client(django_user_model: Any) -> tuple[Client, dict[str, str]]:
    user = django_user_model.objects.create_user("hostile")
    access = issue_token_pair(user, amr=["pwd", "otp"])["access"]  # MFA-verified
    return Client(raise_request_exception=False), {"HTTP_AUTHORIZATION": f"Bearer {access}"}


def check(response: Any, method: str, path: str, body: bytes) -> None:
    if (method, path) in MAY_SUCCEED and response.status_code < 300:
        return
    check_error(response, method, path, body)


@pytest.mark.parametrize("body", HOSTILE, ids=[repr(b[:24]) for b in HOSTILE])
def test_known_hostile_bodies(client: Any, body: bytes) -> None:
    for method, path in ENDPOINTS:
        check(send(client[0], method, path, body, client[1]), method, path, body)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_any_body_is_never_a_500(client: Any, body: bytes) -> None:
    for method, path in ENDPOINTS:
        check(send(client[0], method, path, body, client[1]), method, path, body)
