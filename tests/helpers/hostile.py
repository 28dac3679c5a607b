"""Hostile JSON bodies and the check every JSON endpoint must pass on them (issue 12 item 5),
shared by tests/security/test_hostile_json.py, tests/security/test_passkey_hostile_json.py
and tests/apikeys/test_hostile.py.

* ``HOSTILE``: known bad bodies (deep nesting, lone surrogates, NUL, bad bytes, huge numbers);
  ``bodies``: the Hypothesis strategy that mixes them with generated ones.
* ``clients(user_model)``: anonymous, session and bearer clients of one user.
* ``send``: one request with fresh counters; ``check_error``: a 4xx JSON error with the
  request id, never a 500 and never a 429.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.cache import caches
from django.test import Client
from hypothesis import strategies as st

PASSWORD = "correct horse battery"

HOSTILE = [
    b"[" * 50000,
    b'{"a":' * 50000,
    b'"\\ud800"',
    b'{"username": "\\ud800", "password": "x"}',
    b'{"username": "al\\u0000ice", "password": "x"}',
    b'{"username": "alice", "password": "\\udfff"}',
    b'{"refresh": "\\ud800"}',
    b'{"refresh": "a\\u0000b"}',
    b'{"mfa_token": "\\ud800", "code": "123456"}',
    b'{"mfa_token": "abc", "code": "12\\u00003456"}',
    b'{"code": "\\ud800"}',
    b'{"code": "1\\u00002"}',
    b'{"name": "\\ud800"}',
    b'{"name": "a\\u0000"}',
    b"\xff\xfe\x00",
    b"NaN",
    b'{"username": 1e999999, "password": "x"}',
    b"1" * 5000,
]

texts = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=20)
scalars = st.none() | st.booleans() | st.integers() | st.floats() | texts
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
FIELDS = ["username", "password", "refresh", "mfa_token", "code", "name", "id"]
objects = st.dictionaries(st.sampled_from(FIELDS), values | texts, max_size=4)


def _encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=True, allow_nan=True).encode()


bodies = (
    st.binary(max_size=200)
    | values.map(_encode)
    | objects.map(_encode)
    | st.integers(1, 3000).map(lambda n: b"[" * n)
    | st.sampled_from(HOSTILE)
)


def clients(user_model: Any) -> dict[str, tuple[Client, dict[str, str]]]:
    """``{"anonymous" | "session" | "bearer": (client, extra)}`` for a new user ``alice``."""
    from hardening.jwt.tokens import issue_token_pair

    user = user_model.objects.create_user("alice", password=PASSWORD)
    session = Client(raise_request_exception=False)
    session.force_login(user)
    access = issue_token_pair(user, amr=["pwd"])["access"]
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {access}"}
    return {
        "anonymous": (Client(raise_request_exception=False), {}),
        "session": (session, {}),
        "bearer": (Client(raise_request_exception=False), bearer),
    }


def send(client: Client, method: str, path: str, body: bytes, extra: dict[str, str]) -> Any:
    """One request with fresh counters: the rate limits, bans, the per-account lock and the
    MFA throttle (all in the LocMem cache) would otherwise answer 429 before any parser."""
    caches["default"].clear()
    return getattr(client, method)(path, body, content_type="application/json", **extra)


def check_error(response: Any, method: str, path: str, body: bytes) -> None:
    """A 4xx JSON error with the request id: never a 500, never a 429 (the body was read)."""
    status = response.status_code
    where = (method, path, body[:80], status, response.content[:200])
    assert 400 <= status < 500 and status != 429, where
    assert response["Content-Type"].startswith("application/json"), where
    payload = response.json()
    assert isinstance(payload.get("error"), str) and payload["error"], where
    assert payload.get("request_id") == response["X-Request-ID"], where
