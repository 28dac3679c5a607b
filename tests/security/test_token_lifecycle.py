"""Issue 12 item 7: refresh-token families, password change / deactivation, logout."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client, override_settings

from hardening.jwt.conf import conf

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def post(client: Client, path: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json", headers=headers)


def me(client: Client, token: str) -> int:
    return int(client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code)


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", password=PASSWORD)


def login(client: Client, password: str = PASSWORD) -> dict[str, str]:
    response = post(client, "/api/auth/token", {"username": "alice", "password": password})
    assert response.status_code == 200, response.content
    return dict(response.json())


def refresh(client: Client, token: str) -> Any:
    return post(client, "/api/auth/token/refresh", {"refresh": token})


@override_settings(HARDENING_JWT_REVOKE_ACCESS_TOKENS=True)
def test_replaying_a_rotated_refresh_token_revokes_the_family(
    client: Client, user: Any, events: Any
) -> None:
    first = login(client)
    other = login(client)  # another device's login: a different family
    second = refresh(client, first["refresh"]).json()
    assert me(client, second["access"]) == 200
    assert refresh(client, first["refresh"]).status_code == 401  # the replay (a thief?)
    assert refresh(client, second["refresh"]).status_code == 401  # the family is gone
    assert me(client, second["access"]) == 401
    assert [f for e, f in events if e == "token.reuse_detected"]
    assert refresh(client, other["refresh"]).status_code == 200  # other sessions live on


def test_family_is_revoked_without_access_revocation_too(client: Client, user: Any) -> None:
    first = login(client)
    second = refresh(client, first["refresh"]).json()
    third = refresh(client, second["refresh"]).json()
    assert refresh(client, second["refresh"]).status_code == 401
    assert refresh(client, third["refresh"]).status_code == 401


@pytest.mark.parametrize("revoke_access", [True, False])
def test_password_change_ends_every_token(
    client: Client, user: Any, settings: Any, revoke_access: bool
) -> None:
    settings.HARDENING_JWT_REVOKE_ACCESS_TOKENS = revoke_access
    pairs = [login(client), login(client)]
    user.set_password("a brand new passphrase")
    user.save()
    for pair in pairs:
        assert refresh(client, pair["refresh"]).status_code == 401
        assert me(client, pair["access"]) == 401
    fresh = login(client, "a brand new passphrase")
    assert me(client, fresh["access"]) == 200
    assert refresh(client, fresh["refresh"]).status_code == 200


def test_password_change_through_a_queryset_update_ends_tokens(client: Client, user: Any) -> None:
    from django.contrib.auth.hashers import make_password

    pair = login(client)
    type(user).objects.filter(pk=user.pk).update(password=make_password("x y z w"))
    assert me(client, pair["access"]) == 401
    assert refresh(client, pair["refresh"]).status_code == 401


def test_deactivation_ends_refresh_tokens_for_good(client: Client, user: Any) -> None:
    pair = login(client)
    user.is_active = False
    user.save()
    assert me(client, pair["access"]) == 401
    user.is_active = True
    user.save()  # reactivated: the old tokens stay dead
    assert refresh(client, pair["refresh"]).status_code == 401


def test_logout_revokes_the_access_token_in_production_by_default() -> None:
    with override_settings(HARDENING_ENVIRONMENT="production"):
        assert conf.HARDENING_JWT_REVOKE_ACCESS_TOKENS is True
    with override_settings(HARDENING_ENVIRONMENT="development"):
        assert conf.HARDENING_JWT_REVOKE_ACCESS_TOKENS is False


def test_logout_with_a_rotated_refresh_token_is_reuse(
    client: Client, user: Any, events: Any
) -> None:
    first = login(client)
    second = refresh(client, first["refresh"]).json()
    response = post(client, "/api/auth/logout", {"refresh": first["refresh"]})
    assert response.status_code == 401  # not the family's current token: nothing logged out
    assert [e for e, _ in events if e == "token.reuse_detected"]
    assert not [e for e, _ in events if e == "token.revoked"]
    assert refresh(client, second["refresh"]).status_code == 401  # the family ended


def test_logout_of_a_family_this_server_never_recorded_still_revokes(
    client: Client, user: Any, events: Any
) -> None:
    """A valid refresh token whose family row is gone (pruned, restored backup): no reuse
    to detect, and the logout still succeeds (its access token is revoked if configured)."""
    from hardening.jwt.models import TokenFamily

    pair = login(client)
    (family,) = TokenFamily.objects.all()
    assert str(family) == f"family {family.family}"  # as the admin lists it
    TokenFamily.objects.all().delete()
    response = post(client, "/api/auth/logout", {"refresh": pair["refresh"]})
    assert response.status_code == 204
    assert [e for e, _ in events][-1:] == ["token.revoked"]
    assert not [e for e, _ in events if e == "token.reuse_detected"]


@override_settings(HARDENING_JWT_REVOKE_ACCESS_TOKENS=True)
def test_reuse_is_still_recorded_when_the_cache_cannot_store_the_family(
    client: Client, user: Any, events: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    from django.core.cache import caches

    first = login(client)
    second = refresh(client, first["refresh"]).json()
    monkeypatch.setattr(caches["default"], "set", _refuse)
    with caplog.at_level("ERROR", logger="hardening.jwt.tokens"):
        assert refresh(client, first["refresh"]).status_code == 401
    assert "could not record the revoked token family" in caplog.text
    assert [e for e, _ in events if e == "token.reuse_detected"]
    monkeypatch.undo()
    assert refresh(client, second["refresh"]).status_code == 401  # the database ended it


def _refuse(*args: Any, **kwargs: Any) -> None:
    raise ConnectionError("cache down")
