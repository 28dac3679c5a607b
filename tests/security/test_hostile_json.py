"""Issue 12 item 5: every endpoint this package ships answers 4xx JSON to any body.

Hypothesis generates bodies (raw bytes, deep nesting, lone surrogates, NUL, odd numbers,
valid-looking objects with hostile field values) and posts them to every JSON endpoint,
anonymous, with a session and with a bearer token; the parser is fuzzed on its own too.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from rest_framework.exceptions import ParseError

from hardening.parsers import JSONParser, loads
from tests.helpers.hostile import HOSTILE, bodies, check_error, send
from tests.helpers.hostile import clients as make_clients

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("post", "/api/auth/token"),
    ("post", "/api/auth/token/refresh"),
    ("post", "/api/auth/logout"),
    ("post", "/api/auth/mfa"),
    ("post", "/api/mfa/totp"),
    ("delete", "/api/mfa/totp"),
    ("post", "/api/mfa/totp/confirm"),
    ("post", "/api/mfa/recovery-codes"),
]


@pytest.fixture
def clients(django_user_model: Any) -> dict[str, tuple[Client, dict[str, str]]]:
    return make_clients(django_user_model)


# Which requests read their body: the MFA API needs a user first (anonymous: 401).
PARSED = {
    (who, path)
    for who in ("anonymous", "session", "bearer")
    for _method, path in ENDPOINTS
    if who != "anonymous" or not path.startswith("/api/mfa/")
}
# The one request a body cannot make fail: enrolment, whose only field ("name") is optional.
MAY_SUCCEED = {("post", "/api/mfa/totp")}


def _check(response: Any, method: str, path: str, body: bytes) -> None:
    if (method, path) in MAY_SUCCEED and response.status_code < 300:
        return
    check_error(response, method, path, body)


@pytest.mark.parametrize("body", HOSTILE, ids=[repr(b[:24]) for b in HOSTILE])
def test_known_hostile_bodies_are_400(clients: Any, body: bytes) -> None:
    """Each body reaches the parser of every endpoint that reads one (no 429 first) and is
    refused there: 400 (``invalid_request`` from the plain MFA-step view, ``parse_error`` from
    DRF's); the MFA API without a user stays 401."""
    for who, (client, extra) in clients.items():
        for method, path in ENDPOINTS:
            response = send(client, method, path, body, extra)
            _check(response, method, path, body)
            if (who, path) in PARSED:
                assert response.status_code == 400, (who, method, path, response.content)
                code = "invalid_request" if path == "/api/auth/mfa" else "parse_error"
                assert response.json()["error"] == code, (who, method, path)
            else:
                assert response.status_code == 401, (who, method, path)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_any_body_to_any_endpoint_is_never_a_500(clients: Any, body: bytes) -> None:
    for client, extra in clients.values():
        for method, path in ENDPOINTS:
            _check(send(client, method, path, body, extra), method, path, body)


@settings(max_examples=300, deadline=None)
@given(body=bodies)
def test_the_parser_only_ever_raises_parse_error(body: bytes) -> None:
    import io

    try:
        value = JSONParser().parse(io.BytesIO(body))
    except ParseError:
        return
    _clean(value)


def _clean(value: Any) -> None:
    """What the parser returns has no lone surrogate, no NUL and bounded depth."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        assert depth <= 32
        if isinstance(item, str):
            item.encode("utf-8")
            assert "\x00" not in item
        elif isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


@pytest.mark.parametrize(
    "body", [b"[" * 50000, b'"\\ud800"', b'"a\\u0000"', b"\xff", b"NaN", b'{"a":1,"a":2}']
)
def test_loads_refuses(body: bytes) -> None:
    with pytest.raises(ValueError):
        loads(body)


def test_loads_accepts_ordinary_json() -> None:
    assert loads(b'{"username": "al\\u00efce", "n": [1, 2.5, null, true]}') == {
        "username": "al\u00efce",
        "n": [1, 2.5, None, True],
    }


@pytest.mark.parametrize("path", ["/api/auth/logout", "/api/auth/token/refresh"])
def test_logout_and_refresh_are_in_the_auth_rate_limit(path: str) -> None:
    from django.conf import settings as django_settings

    from hardening.ratelimit.policy import parse_policies

    policies = parse_policies(django_settings.HARDENING_RATELIMIT_POLICIES)
    (auth,) = [p for p in policies if p.name == "auth"]
    assert auth.matches(path, "POST") and not auth.fail_open
