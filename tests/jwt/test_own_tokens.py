"""Own tokens end to end: /api/auth/token, refresh rotation, logout, /api/me."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import jwt
import pytest
from django.test import Client

from hardening.jwt.tokens import issue_token_pair
from hardening.observability.metrics import AUTH_FAILURES
from tests.jwt.helpers import private_pem, public_pem, rsa_key

pytestmark = pytest.mark.django_db


def post(client: Client, path: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json", headers=headers)


def me(client: Client, token: str) -> Any:
    return client.get("/api/me", headers={"Authorization": f"Bearer {token}"})


def failures(reason: str) -> float:
    return AUTH_FAILURES.labels(reason=reason)._value.get()


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", password="correct horse battery")


def login(client: Client) -> dict[str, str]:
    response = post(
        client, "/api/auth/token", {"username": "alice", "password": "correct horse battery"}
    )
    assert response.status_code == 200, response.content
    return dict(response.json())


def test_login_then_me(client: Client, user: Any) -> None:
    pair = login(client)
    assert set(pair) == {"access", "refresh"}
    response = me(client, pair["access"])
    assert response.status_code == 200
    assert response.json()["sub"] == str(user.pk)
    assert response.json()["auth"] == "jwt"
    claims = jwt.decode(pair["access"], options={"verify_signature": False})
    assert claims["amr"] == ["pwd"]
    assert abs(claims["auth_time"] - time.time()) < 10
    assert 899 <= claims["exp"] - claims["iat"] <= 900  # iat and exp may straddle a second
    assert claims["token_type"] == "access" and claims["jti"]
    refresh_claims = jwt.decode(pair["refresh"], options={"verify_signature": False})
    assert refresh_claims["exp"] - refresh_claims["iat"] == 7 * 24 * 3600


def test_unauthenticated_me_is_401_with_bearer_challenge(client: Client) -> None:
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"] == "not_authenticated"


def test_bad_credentials(client: Client, user: Any, caplog: pytest.LogCaptureFixture) -> None:
    before = failures("credentials")
    with caplog.at_level(logging.INFO, logger="hardening.audit"):
        response = post(client, "/api/auth/token", {"username": "alice", "password": "wrong"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_credentials"
    assert failures("credentials") == before + 1
    # Exactly one event: authenticate()'s user_login_failed, not a second one from the view.
    assert len([r for r in caplog.records if getattr(r, "event", None) == "auth.failed"]) == 1
    assert "wrong" not in caplog.text and "alice" not in caplog.text


def test_missing_fields_are_400(client: Client) -> None:
    assert post(client, "/api/auth/token", {"username": "alice"}).status_code == 400
    response = client.post("/api/auth/token", "{not json", content_type="application/json")
    assert response.status_code == 400


def test_refresh_rotates_and_blacklists(client: Client, user: Any) -> None:
    pair = login(client)
    response = post(client, "/api/auth/token/refresh", {"refresh": pair["refresh"]})
    assert response.status_code == 200
    new = response.json()
    assert new["refresh"] != pair["refresh"]
    assert me(client, new["access"]).status_code == 200
    new_claims = jwt.decode(new["access"], options={"verify_signature": False})
    old_claims = jwt.decode(pair["access"], options={"verify_signature": False})
    assert new_claims["auth_time"] == old_claims["auth_time"]
    assert new_claims["amr"] == ["pwd"]
    again = post(client, "/api/auth/token/refresh", {"refresh": pair["refresh"]})
    assert again.status_code == 401  # replay of a rotated refresh token


def test_logout_blacklists_refresh(client: Client, user: Any) -> None:
    pair = login(client)
    response = post(client, "/api/auth/logout", {"refresh": pair["refresh"]})
    assert response.status_code == 204
    assert post(client, "/api/auth/token/refresh", {"refresh": pair["refresh"]}).status_code == 401


def test_logout_can_revoke_access_token(client: Client, user: Any, settings: Any) -> None:
    settings.HARDENING_JWT_REVOKE_ACCESS_TOKENS = True
    pair = login(client)
    assert me(client, pair["access"]).status_code == 200
    response = post(
        client,
        "/api/auth/logout",
        {"refresh": pair["refresh"]},
        Authorization=f"Bearer {pair['access']}",
    )
    assert response.status_code == 204
    assert me(client, pair["access"]).status_code == 401


def test_refresh_token_is_not_an_access_token(client: Client, user: Any) -> None:
    pair = login(client)
    before = failures("wrong_type")
    response = me(client, pair["refresh"])
    assert response.status_code == 401
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert failures("wrong_type") == before + 1


def test_mfa_token_type_is_not_an_access_token(client: Client, user: Any, settings: Any) -> None:
    now = int(time.time())
    payload = {
        "iss": "django-hardening",
        "token_type": "mfa",
        "user_id": str(user.pk),
        "jti": "x",
        "iat": now,
        "exp": now + 300,
    }
    token = jwt.encode(payload, settings.HARDENING_JWT_SIGNING_KEY, algorithm="HS256")
    assert me(client, token).status_code == 401


def test_login_challenge_replaces_tokens(
    client: Client, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hardening.jwt import views

    monkeypatch.setattr(views, "LOGIN_CHALLENGES", ["tests.jwt.test_own_tokens.challenge"])
    response = post(
        client, "/api/auth/token", {"username": "alice", "password": "correct horse battery"}
    )
    assert response.json() == {"mfa_required": True, "mfa_token": "t"}


def challenge(request: Any, user: Any) -> dict[str, Any] | None:
    return {"mfa_required": True, "mfa_token": "t"}


def test_override_settings_reach_lifetimes_and_keys(
    client: Client, user: Any, settings: Any
) -> None:
    settings.HARDENING_JWT_ACCESS_TOKEN_LIFETIME = 60
    settings.HARDENING_JWT_ALGORITHM = "RS256"
    settings.HARDENING_JWT_SIGNING_KEY = private_pem(rsa_key("own"))
    settings.HARDENING_JWT_VERIFYING_KEY = public_pem(rsa_key("own"))
    pair = issue_token_pair(user, amr=["pwd", "otp"], auth_time=1234)
    header = jwt.get_unverified_header(pair["access"])
    claims = jwt.decode(pair["access"], options={"verify_signature": False})
    assert header["alg"] == "RS256"
    assert 59 <= claims["exp"] - claims["iat"] <= 60
    assert claims["amr"] == ["pwd", "otp"] and claims["auth_time"] == 1234
    response = me(client, pair["access"])
    assert response.status_code == 200


def test_inactive_user_is_refused(client: Client, user: Any) -> None:
    pair = login(client)
    user.is_active = False
    user.save()
    assert me(client, pair["access"]).status_code == 401


def test_expired_access_token(
    client: Client, user: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hardening.jwt import verify

    settings.HARDENING_JWT_ACCESS_TOKEN_LIFETIME = 1
    monkeypatch.setattr(verify, "LEEWAY", 0)
    pair = issue_token_pair(user, amr=["pwd"])
    claims = jwt.decode(pair["access"], options={"verify_signature": False})
    deadline = time.monotonic() + 5
    while time.time() <= claims["exp"] + 0.05 and time.monotonic() < deadline:
        time.sleep(0.05)
    response = me(client, pair["access"])
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


@pytest.mark.parametrize("which", ["access", "garbage", "none"])
def test_refresh_needs_a_refresh_token(client: Client, user: Any, which: str) -> None:
    pair = login(client)
    value = {"access": pair["access"], "garbage": "a.b.c", "none": None}[which]
    response = post(client, "/api/auth/token/refresh", {"refresh": value})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_refresh_of_deleted_user_is_refused(client: Client, user: Any) -> None:
    pair = login(client)
    user.delete()
    assert post(client, "/api/auth/token/refresh", {"refresh": pair["refresh"]}).status_code == 401


def resigned(token: str, *, alg: str = "HS256", **header: Any) -> str:
    """The same claims, signed again with the project's own secret (what a holder of the
    secret could mint; the checks below the signature must still refuse it)."""
    from hardening.jwt.conf import conf

    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode(claims, conf.HARDENING_JWT_SIGNING_KEY, algorithm=alg, headers=header)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"alg": "HS512"}, "algorithm"),  # not HARDENING_JWT_ALGORITHM, however well signed
        ({"typ": "at+jwt"}, "typ"),
        ({"typ": "JWT"}, None),  # the check is case-insensitive
    ],
)
def test_own_tokens_in_another_algorithm_or_type_are_refused(
    client: Client, user: Any, settings: Any, change: dict[str, str], reason: str | None
) -> None:
    settings.HARDENING_JWT_ALGORITHM = "HS256"
    settings.HARDENING_JWT_SIGNING_KEY = "s" * 64  # long enough for HS512 too
    access = login(client)["access"]
    assert me(client, resigned(access)).status_code == 200  # the re-signing itself is sound
    token = resigned(access, **change)
    if reason is None:
        assert me(client, token).status_code == 200
        return
    before = failures(reason)
    response = me(client, token)
    assert response.status_code == 401
    assert f"({reason})" in response.json()["detail"]
    assert failures(reason) == before + 1


def test_an_own_token_naming_an_unknown_kid_is_refused(
    client: Client, user: Any, settings: Any
) -> None:
    settings.HARDENING_JWT_ALGORITHM = "RS256"
    settings.HARDENING_JWT_SIGNING_KEY = [{"kid": "k-2026", "key": private_pem(rsa_key("own"))}]
    access = login(client)["access"]
    assert jwt.get_unverified_header(access)["kid"] == "k-2026"
    assert me(client, access).status_code == 200
    claims = jwt.decode(access, options={"verify_signature": False})
    forged = jwt.encode(claims, rsa_key("own"), algorithm="RS256", headers={"kid": "k-none"})
    before = failures("signature")
    response = me(client, forged)  # the right key, but no configured key has that kid
    assert response.status_code == 401 and "(signature)" in response.json()["detail"]
    assert failures("signature") == before + 1


# -- the per-request checks of an own access token, one by one -------------------------------


@pytest.mark.parametrize("user_id", ["not-a-number", None, ["1"], "999999"])
def test_an_access_token_naming_no_user_is_refused(user: Any, user_id: Any) -> None:
    from hardening.jwt.jws import TokenRejected
    from hardening.jwt.tokens import own_user

    assert own_user({"user_id": str(user.pk)}) == user
    with pytest.raises(TokenRejected) as info:
        own_user({"user_id": user_id})
    assert (info.value.reason, info.value.kind) == ("user", "jwt")


def test_tokens_without_a_password_version_and_users_without_a_password(user: Any) -> None:
    from types import SimpleNamespace

    from hardening.jwt.tokens import password_fingerprint, password_unchanged

    fingerprint = password_fingerprint(user)
    assert fingerprint is not None and len(fingerprint) == 16
    assert password_unchanged({"pwv": fingerprint}, user)
    assert not password_unchanged({"pwv": "0" * 16}, user)
    assert password_unchanged({}, user)  # issued before pwv existed: it expires on its own
    assert password_unchanged("not a mapping", user)
    passwordless = SimpleNamespace(pk=7)  # a user model without a password field
    assert password_fingerprint(passwordless) is None
    assert password_unchanged({"pwv": fingerprint}, passwordless)


def test_a_passwordless_user_model_gets_tokens_without_pwv(user: Any) -> None:
    from hardening.jwt.tokens import _pair

    class Passwordless:
        pk = user.pk
        password = None

    access, refresh = _pair(Passwordless(), ["otp"], 1, "fam-1")
    assert "pwv" not in refresh.payload and "pwv" not in access.payload
    assert access["fam"] == "fam-1" and access["amr"] == ["otp"]


def test_revocation_keys_of_a_token_without_a_family() -> None:
    from hardening.jwt.tokens import FAMILY_PREFIX, REVOKED_PREFIX, revocation_keys

    assert revocation_keys({"jti": "j1"}) == [REVOKED_PREFIX + "j1"]
    assert revocation_keys({"jti": "j1", "fam": "f1"}) == [
        REVOKED_PREFIX + "j1",
        FAMILY_PREFIX + "f1",
    ]


def test_a_cache_error_that_is_no_outage_is_not_swallowed(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An outage accepts the token (counted); any other error is a bug and propagates."""
    from django.core.cache import caches

    from hardening.jwt.tokens import check_not_revoked

    settings.HARDENING_JWT_REVOKE_ACCESS_TOKENS = True

    def broken(keys: Any) -> Any:
        raise TypeError("a bug, not an outage")

    monkeypatch.setattr(caches["default"], "get_many", broken)
    with pytest.raises(TypeError, match="a bug"):
        check_not_revoked({"jti": "j1", "fam": "f1"})


def test_revoking_an_expired_access_token_stores_nothing() -> None:
    from django.core.cache import caches

    from hardening.jwt.tokens import REVOKED_PREFIX, revoke_access_token

    revoke_access_token({"jti": "gone", "exp": time.time() - 3600})
    assert caches["default"].get(REVOKED_PREFIX + "gone") is None
    revoke_access_token({"jti": "live", "exp": time.time() + 600})
    assert caches["default"].get(REVOKED_PREFIX + "live") == 1


def test_an_account_locked_by_a_concurrent_request_is_429(
    client: Client, user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The view's own lockout check passed; by the time LockoutBackend looks, another
    request's failures locked the account: the refusal is the lockout's, not a 401."""
    from hardening.mfa import lockout

    looks: list[str] = []

    def blocked_for(username: str) -> float:
        looks.append(username)
        return 0.0 if len(looks) == 1 else 42.5  # the view's look, then every later one

    monkeypatch.setattr(lockout, "blocked_for", blocked_for)
    response = post(
        client, "/api/auth/token", {"username": "alice", "password": "correct horse battery"}
    )
    assert response.status_code == 429
    assert response.json()["error"] == "account_locked"
    assert response["Retry-After"] == "43"
    assert "access" not in response.json()
    assert looks[:2] == ["alice", "alice"]


def test_an_inactive_user_from_a_permissive_backend_gets_no_tokens(
    client: Client, user: Any, settings: Any, events: Any
) -> None:
    """AllowAllUsersModelBackend returns inactive users; the endpoint still refuses them,
    and counts the refusal as failed credentials (Django sent no signal for it)."""
    settings.AUTHENTICATION_BACKENDS = [
        "hardening.backends.LockoutBackend",
        "django.contrib.auth.backends.AllowAllUsersModelBackend",
    ]
    user.is_active = False
    user.save()
    before = failures("credentials")
    response = post(
        client, "/api/auth/token", {"username": "alice", "password": "correct horse battery"}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_credentials"
    assert failures("credentials") == before + 1
    assert [f["reason"] for e, f in events if e == "auth.failed"] == ["credentials"]
    assert not [e for e, _ in events if e == "token.issued"]
