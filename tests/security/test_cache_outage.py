"""A down cache never turns signed-in requests into 500s (issue 14 item 2, "any other
hot-path cache use"): the access-token revocation lookup, the per-account lockout and the
create-mode user cache go through the cache's circuit breaker like the rate limiter.

The default cache is pointed at a closed loopback port (connection refused at once)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client, override_settings

from hardening.breaker import reset_all
from hardening.observability.metrics import REVOCATION_UNCHECKED

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", password=PASSWORD)


@pytest.fixture
def token(client: Client, user: Any) -> str:
    body = json.dumps({"username": "alice", "password": PASSWORD})
    response = client.post("/api/auth/token", body, content_type="application/json")
    assert response.status_code == 200, response.content
    return str(response.json()["access"])


@pytest.fixture
def cache_down() -> Iterator[None]:
    down = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
        "OPTIONS": {"SOCKET_TIMEOUT": 0.25, "SOCKET_CONNECT_TIMEOUT": 0.25},
    }
    with override_settings(CACHES={"default": down}):
        reset_all()
        yield
    caches["default"].close()
    reset_all()


def _unchecked() -> float:
    return float(REVOCATION_UNCHECKED._value.get())


@override_settings(HARDENING_JWT_REVOKE_ACCESS_TOKENS=True)
def test_bearer_requests_are_served_while_the_revocation_cache_is_down(
    client: Client, token: str, cache_down: None
) -> None:
    before = _unchecked()
    statuses = [
        client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code
        for _ in range(5)
    ]
    assert statuses == [200] * 5  # was a 500 (ConnectionError from the revocation read)
    assert _unchecked() - before == 5  # each acceptance without the check is counted


def test_lockout_fails_closed_at_once_while_the_cache_is_down(
    client: Client, user: Any, cache_down: None, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps({"username": "alice", "password": PASSWORD})
    answers = [
        client.post("/api/auth/token", body, content_type="application/json") for _ in range(3)
    ]
    assert {a.status_code for a in answers} <= {429, 503}  # refused, never 500
    assert all("Retry-After" in a for a in answers)
    tracebacks = [r for r in caplog.records if r.exc_info and r.levelname == "ERROR"]
    assert tracebacks == []  # the breaker logs the outage once; no traceback per login
