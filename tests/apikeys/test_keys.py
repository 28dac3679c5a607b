"""API keys: format, checking, expiry, rotation, last use, the middleware path (sync and
async), rate-limit identity, the JSON API, the admin and the checks."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.http import HttpRequest, HttpResponse
from django.test import AsyncRequestFactory, Client, RequestFactory, override_settings

from hardening.apikeys import keys
from hardening.apikeys.auth import credential_for
from hardening.apikeys.keys import KeyRejected, check_key, create_key, revoke, rotate
from hardening.apikeys.models import APIKey
from hardening.jwt.auth import CredentialMiddleware
from hardening.jwt.tokens import issue_token_pair
from hardening.ratelimit.middleware import _checks
from hardening.ratelimit.policy import parse_policies
from hardening.request import state
from tests.helpers.checks import check_error_codes, production
from tests.helpers.clock import FakeClock

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice() -> Any:
    return get_user_model().objects.create_user("alice", password="x")


def reason(key: str) -> str:
    with pytest.raises(KeyRejected) as caught:
        check_key(key)
    return caught.value.reason


def test_format_and_entropy(alice: Any) -> None:
    row, key = create_key(user=alice, scopes=["a"])
    prefix, env, public_id, secret = key.split("_")
    assert (prefix, env, public_id) == ("hk", "test", row.public_id)
    assert len(secret) == keys.SECRET_CHARS and secret.isalnum()
    assert keys.SECRET_CHARS * 5.95 >= 128  # log2(62) bits per character
    assert check_key(key) == row


def test_refusals(alice: Any, clock: FakeClock) -> None:
    row, key = create_key(user=alice, expires_in=timedelta(days=1))
    prefix, env, public_id, secret = key.split("_")
    assert reason(f"{prefix}_{env}_{public_id}_{'x' * 32}") == "unknown_key"
    assert reason(f"{prefix}_live_{public_id}_{secret}") == "environment"
    assert reason(f"zz_{env}_{public_id}_{secret}") == "malformed"
    assert reason(key + "_x") == "malformed"
    assert reason(key + "é") == "malformed"
    assert reason("x" * 500) == "malformed"
    with override_settings(HARDENING_API_KEY_HASH_KEY="another-hash-key-" * 3):
        assert reason(key) == "unknown_key"  # another hash key voids every key
    clock.advance(86400 + 1)
    assert reason(key) == "expired"
    clock.advance(-86400)
    alice.is_active = False
    alice.save()
    assert reason(key) == "user"
    alice.is_active = True
    alice.save()
    assert revoke(row) and not revoke(row)
    assert reason(key) == "revoked"


def test_production_without_hash_key_fails_closed(alice: Any) -> None:
    _, key = create_key(user=alice)
    with override_settings(HARDENING_ENVIRONMENT="production", HARDENING_API_KEY_HASH_KEY=""):
        live = key.replace("_test_", "_live_")
        assert reason(live) == "unavailable"


def test_last_used_is_written_at_most_once_a_minute(
    alice: Any, clock: FakeClock, django_assert_num_queries: Any
) -> None:
    row, key = create_key(user=alice)
    check_key(key)
    first = APIKey.objects.get().last_used_at
    assert first is not None
    clock.advance(30)
    with django_assert_num_queries(1):  # the lookup only: no write
        check_key(key)
    assert APIKey.objects.get().last_used_at == first
    clock.advance(31)
    check_key(key)
    assert APIKey.objects.get().last_used_at > first


def test_rotation_keeps_the_old_key_for_the_overlap(alice: Any, clock: FakeClock) -> None:
    row, old = create_key(user=alice, scopes=["orders:read"])
    new_row, new = rotate(row, overlap=timedelta(hours=1))
    assert new_row.scopes == ["orders:read"] and new_row.user == alice
    assert check_key(old) == row and check_key(new) == new_row
    clock.advance(3601)
    assert reason(old) == "expired"
    assert check_key(new) == new_row


def test_service_keys_have_a_stateless_user() -> None:
    row, key = create_key(service="billing", scopes=["invoices:write"])
    credential = credential_for(check_key(key))
    assert credential.user.pk == "service:billing" and credential.user.is_authenticated
    assert credential.scopes == frozenset({"invoices:write"})
    assert credential.claims["key_id"] == row.public_id
    with pytest.raises(ValueError):
        create_key(service="billing", user=get_user_model().objects.create_user("bob"))
    with pytest.raises(ValueError):
        create_key(scopes=["bad scope"], service="x")


def _view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(request.user.pk))


async def _async_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(request.user.pk))


def test_middleware_checks_once_sync_and_async(alice: Any, django_assert_num_queries: Any) -> None:
    _, key = create_key(user=alice)
    request = RequestFactory().get("/api/x", HTTP_AUTHORIZATION=f"Api-Key {key}")
    request.user = AnonymousUser()
    response = CredentialMiddleware(_view)(request)
    assert response.content == str(alice.pk).encode()
    assert state(request).auth_kind == "api_key"
    with django_assert_num_queries(0):  # the DRF class reuses the outcome
        from hardening.apikeys.auth import authenticate

        assert authenticate(request) is state(request).bearer

    arequest = AsyncRequestFactory().get("/api/x", headers={"X-API-Key": key})
    arequest.user = AnonymousUser()
    response = async_to_sync(CredentialMiddleware(_async_view))(arequest)
    assert response.content == str(alice.pk).encode()

    outside = RequestFactory().get("/admin/", HTTP_X_API_KEY=key)
    outside.user = AnonymousUser()
    CredentialMiddleware(_view)(outside)
    assert outside.user.is_anonymous and state(outside).credential is None
    assert state(outside).bearer_user == alice  # rate limits and audit still see it


def test_a_key_with_a_bearer_token_is_ambiguous(alice: Any) -> None:
    _, key = create_key(user=alice)
    response = Client().get("/api/me", HTTP_X_API_KEY=key, HTTP_AUTHORIZATION="Bearer abc")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Api-Key")


def test_rate_limit_identity_is_the_key(alice: Any) -> None:
    row, key = create_key(user=alice)
    request = RequestFactory().get("/api/x", HTTP_X_API_KEY=key)
    request.user = AnonymousUser()
    CredentialMiddleware(_view)(request)
    policies = list(
        parse_policies(
            [
                {"name": "api_key", "key": "api_key", "rates": ["5/m"]},
                {"name": "user", "key": "user", "rates": ["100/m"]},
            ]
        )
    )
    checks, identities = _checks(request, policies)
    assert {c.bucket for c in checks} == {f"key:{row.public_id}", f"u:{alice.pk}"}
    assert identities[0] == f"key:{row.public_id}"
    plain = RequestFactory().get("/api/x")
    plain.user = alice
    checks, _ = _checks(plain, policies)
    assert {c.bucket for c in checks} == {f"u:{alice.pk}"}


@pytest.mark.parametrize("cache", ["default", pytest.param("redis", marks=pytest.mark.redis)])
def test_each_key_has_its_own_limit(alice: Any, cache: str) -> None:
    with override_settings(
        HARDENING_CACHE=cache,
        HARDENING_RATELIMIT_POLICIES=[{"name": "api_key", "key": "api_key", "rates": ["2/m"]}],
    ):
        each_key_has_its_own_limit(alice)


def each_key_has_its_own_limit(alice: Any) -> None:
    _, first = create_key(user=alice)
    _, second = create_key(user=alice)
    client = Client()
    codes = [client.get("/api/me", HTTP_X_API_KEY=first).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get("/api/me", HTTP_X_API_KEY=second).status_code == 200


def _mfa_client(user: Any, amr: list[str]) -> Client:
    access = issue_token_pair(user, amr=amr)["access"]
    return Client(HTTP_AUTHORIZATION=f"Bearer {access}")


def test_json_api_needs_mfa_and_shows_the_key_once(alice: Any) -> None:
    assert _mfa_client(alice, ["pwd"]).get("/api/keys").status_code == 403
    client = _mfa_client(alice, ["pwd", "otp"])
    made = client.post(
        "/api/keys", {"name": "ci", "scopes": ["read"], "expires_days": 30}, "application/json"
    )
    assert made.status_code == 201, made.content
    key = made.json()["key"]
    assert Client().get("/api/me", HTTP_X_API_KEY=key).json()["auth"] == "api_key"
    listed = client.get("/api/keys").json()["keys"]
    assert [k["public_id"] for k in listed] == [made.json()["public_id"]]
    assert "key" not in listed[0] and key not in str(listed)
    # A key never manages keys (it is not MFA-verified).
    assert Client().get("/api/keys", HTTP_X_API_KEY=key).status_code == 403
    bad = client.post("/api/keys", {"scopes": "read"}, "application/json")
    assert bad.status_code == 400
    rotated = client.post(f"/api/keys/{made.json()['public_id']}/rotate", {}, "application/json")
    assert rotated.status_code == 201 and rotated.json()["replaces"] == made.json()["public_id"]
    bob = get_user_model().objects.create_user("bob")
    other = _mfa_client(bob, ["pwd", "otp"])
    assert other.delete(f"/api/keys/{made.json()['public_id']}").status_code == 404
    assert client.delete(f"/api/keys/{made.json()['public_id']}").status_code == 204
    assert Client().get("/api/me", HTTP_X_API_KEY=key).status_code == 401


def test_admin_shows_a_new_key_once(alice: Any) -> None:
    admin = get_user_model().objects.create_superuser("root", password="pw")
    client = Client()
    client.force_login(admin)
    response = client.post(
        "/admin/hardening/apikey/add/",
        {"name": "ops", "user": alice.pk, "service": "", "scopes": "read, write"},
    )
    assert response.status_code == 200, response.content[:500]
    row = APIKey.objects.get()
    assert row.scopes == ["read", "write"]
    page = response.content.decode()
    key = re.search(r"hk_test_\w+", page).group(0)  # type: ignore[union-attr]
    assert key.startswith(f"hk_test_{row.public_id}_")
    assert "no-store" in response["Cache-Control"]
    assert keys.digest(key) == row.key_hash
    change = client.get(f"/admin/hardening/apikey/{row.pk}/change/").content.decode()
    assert key not in change and row.key_hash not in change


def test_list_and_errors_of_the_commands(alice: Any) -> None:
    out = io.StringIO()
    call_command("create_api_key", "--service", "billing", "--scopes", "x", stdout=out)
    key = out.getvalue().strip()
    out = io.StringIO()
    call_command("list_api_keys", stdout=out)
    assert "service:billing" in out.getvalue() and key not in out.getvalue()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_api_key", "--user", "nobody", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("revoke_api_key", "nope", stdout=io.StringIO())


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"HARDENING_API_KEY_HASH_KEY": ""}, "hardening.E801"),
        ({"HARDENING_API_KEY_HASH_KEY": "short"}, "hardening.E802"),
        ({"HARDENING_API_KEY_HASH_KEY": "a" * 40}, "hardening.E802"),
        ({"HARDENING_API_KEY_PREFIX": "h_k"}, "hardening.E804"),
    ],
)
def test_checks(changes: dict[str, Any], code: str) -> None:
    with production(**changes):
        assert check_error_codes().get(code) == "ERROR"


def test_check_for_a_reused_secret() -> None:
    from tests.helpers.checks import JWT_KEY, STRONG_KEY

    for other in (STRONG_KEY, JWT_KEY):
        with production(HARDENING_API_KEY_HASH_KEY=other):
            assert check_error_codes().get("hardening.E803") == "ERROR"
    token = "m3tr1cs-t0ken-Zq8Lp2Xw9Vb4Nc7Hd1Rf6Tg0Yj5"
    with production(HARDENING_API_KEY_HASH_KEY=token, HARDENING_METRICS_TOKEN=token):
        codes = check_error_codes()
        assert codes.get("hardening.E803") == "ERROR"
        assert codes.get("hardening.E049") == "ERROR"  # the operator token's own check too
    with production():
        assert not {c for c in check_error_codes() if c.startswith("hardening.E80")}
