"""The contract of issue 17: create_api_key prints the key, /api/me accepts it, revoke_api_key
ends it (401 JSON with WWW-Authenticate)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from hardening.apikeys.models import APIKey

pytestmark = pytest.mark.django_db


def create(*args: str) -> str:
    out = io.StringIO()
    call_command("create_api_key", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def alice() -> Any:
    return get_user_model().objects.create_user("alice", password="x")


def test_create_me_revoke(alice: Any, events: list[tuple[str, dict[str, Any]]]) -> None:
    printed = create("--user", "alice", "--scopes", "read")
    assert printed.count("\n") == 1 and printed.endswith("\n")
    key = printed.strip()
    assert key.startswith("hk_test_")
    public_id = key.split("_")[2]

    response = Client().get("/api/me", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["sub"] == str(alice.pk) and body["auth"] == "api_key"

    call_command("revoke_api_key", public_id, stdout=io.StringIO())
    response = Client().get("/api/me", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response["WWW-Authenticate"].startswith("Api-Key")
    assert response.json()["error"]
    names = [name for name, _ in events]
    assert "apikey.created" in names and "apikey.revoked" in names
    assert ("apikey.rejected", "revoked") in [(n, f.get("reason")) for n, f in events]


def test_the_x_api_key_header_works_too(alice: Any) -> None:
    key = create("--user", "alice").strip()
    response = Client().get("/api/me", HTTP_X_API_KEY=key)
    assert response.status_code == 200
    assert response.json()["auth"] == "api_key"


def test_only_a_keyed_hash_is_stored(alice: Any) -> None:
    key = create("--user", "alice", "--scopes", "b,a").strip()
    row = APIKey.objects.get()
    assert key not in repr(row.__dict__) and key.split("_")[3] not in repr(row.__dict__)
    assert len(row.key_hash) == 64 and row.scopes == ["a", "b"]
