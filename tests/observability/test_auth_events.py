"""Login outcomes are audited however the user logs in: the admin's session login, the
token endpoint, any ``authenticate()`` call; never with the credentials."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.test import Client

from hardening.observability.metrics import AUTH_FAILURES

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def staff() -> Any:
    name = f"ops-{uuid.uuid4().hex[:8]}"
    return get_user_model().objects.create_user(name, password=PASSWORD, is_staff=True)


def client() -> Client:
    return Client(REMOTE_ADDR=f"198.51.100.{uuid.uuid4().int % 250 + 1}")


def failures() -> float:
    return AUTH_FAILURES.labels(reason="credentials")._value.get()


def named(events: list[tuple[str, dict[str, Any]]], name: str) -> list[dict[str, Any]]:
    return [fields for event, fields in events if event == name]


def test_admin_login_failure_is_audited_and_counted_without_credentials(
    staff: Any, events: list[tuple[str, dict[str, Any]]]
) -> None:
    before = failures()
    form = {"username": staff.username, "password": "not-the-password", "next": "/admin/"}
    response = client().post("/admin/login/", form)
    assert response.status_code == 200  # the form again, with an error
    assert failures() == before + 1
    (failed,) = named(events, "auth.failed")
    assert failed["reason"] == "credentials" and "client_ip" in failed
    text = json.dumps(events)
    assert "not-the-password" not in text and staff.username not in text


def test_admin_login_success_is_audited(
    staff: Any, events: list[tuple[str, dict[str, Any]]]
) -> None:
    form = {"username": staff.username, "password": PASSWORD, "next": "/admin/"}
    response = client().post("/admin/login/", form)
    assert response.status_code == 302
    (succeeded,) = named(events, "auth.succeeded")
    assert succeeded["user_id"] == str(staff.pk) and succeeded["amr"] == "session"
    assert not named(events, "auth.failed")


def test_token_login_success_is_audited(
    staff: Any, events: list[tuple[str, dict[str, Any]]]
) -> None:
    body = json.dumps({"username": staff.username, "password": PASSWORD})
    response = client().post("/api/auth/token", body, content_type="application/json")
    assert response.status_code == 200
    (succeeded,) = named(events, "auth.succeeded")
    assert succeeded["user_id"] == str(staff.pk) and succeeded["amr"] == "pwd"


def test_any_authenticate_call_that_fails_is_audited(
    events: list[tuple[str, dict[str, Any]]],
) -> None:
    before = failures()
    assert authenticate(None, username="nobody", password="x") is None
    assert failures() == before + 1
    assert len(named(events, "auth.failed")) == 1
