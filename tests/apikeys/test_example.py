"""The example's wiring: an exchange credential stored encrypted and never returned whole;
API keys need the scope exchange:write there."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from example_project.models import ExchangeCredential
from hardening.apikeys.keys import create_key

pytestmark = pytest.mark.django_db

SECRET = "exch-secret-9f8e7d6c5b4a"
KEY = "EXCHKEY-ABCDEFGH-7788"


@pytest.fixture
def client() -> Client:
    user = get_user_model().objects.create_user("frank", password="pw")
    client = Client()
    client.force_login(user)
    client.user = user  # type: ignore[attr-defined]
    return client


def store(client: Client, **extra: Any) -> Any:
    body = {"exchange": "binance", "api_key": KEY, "api_secret": SECRET, **extra}
    return client.post("/api/exchange-credentials", body, "application/json")


def test_stored_encrypted_and_never_returned_whole(client: Client) -> None:
    response = store(client, passphrase="pp")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["api_key_hint"] == "…7788" and body["has_passphrase"] is True
    listed = client.get("/api/exchange-credentials")
    for text in (response.content.decode(), listed.content.decode()):
        assert SECRET not in text and KEY not in text
    row = ExchangeCredential.objects.get()
    assert row.api_secret == SECRET and row.extra == {"passphrase": "pp"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key, api_secret, extra FROM example_project_exchangecredential")
        stored = " ".join(map(str, cursor.fetchone()))
    assert SECRET not in stored and KEY not in stored and "pp" not in stored.split("gAAAA")[0]
    assert client.delete(f"/api/exchange-credentials/{row.pk}").status_code == 204
    assert client.delete(f"/api/exchange-credentials/{row.pk}").status_code == 404


@pytest.mark.parametrize(
    "bad",
    [{"api_secret": ""}, {"api_secret": 5}, {"exchange": "x" * 51}, {"passphrase": ["a"]}],
)
def test_bad_input_is_a_400(client: Client, bad: dict[str, Any]) -> None:
    response = store(client, **bad)
    assert response.status_code == 400 and response.json()["error"] == "invalid_field"
    assert not ExchangeCredential.objects.exists()


def test_api_keys_need_the_scope(client: Client) -> None:
    user = client.user  # type: ignore[attr-defined]
    _, plain = create_key(user=user, scopes=["read"])
    _, scoped = create_key(user=user, scopes=["exchange:write"])
    refused = Client().get("/api/exchange-credentials", HTTP_X_API_KEY=plain)
    assert refused.status_code == 403
    assert "exchange:write" in refused.json()["detail"]
    assert Client().get("/api/exchange-credentials", HTTP_X_API_KEY=scoped).status_code == 200


def test_other_users_see_nothing(client: Client) -> None:
    store(client)
    other = Client()
    other.force_login(get_user_model().objects.create_user("gina"))
    assert other.get("/api/exchange-credentials").json() == {"credentials": []}
    row = ExchangeCredential.objects.get()
    assert other.delete(f"/api/exchange-credentials/{row.pk}").status_code == 404
