"""Our own JWKS (/.well-known/jwks.json) and key rotation (hardening.jwt.ownkeys): what a
gateway sees, what signs when, when an old key retires, and rotate_jwt_keys."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import jwt
import pytest
from django.core.management import call_command
from django.test import Client

from hardening.jwt import ownkeys, signingkey
from hardening.jwt.checks import check_own_keys
from hardening.jwt.tokens import issue_token_pair
from tests.helpers.clock import FakeClock
from tests.jwt.helpers import ec_key, private_pem, public_pem, rsa_key

pytestmark = pytest.mark.django_db
DAY = 86400.0


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", password="correct horse battery")


def me(client: Client, token: str) -> Any:
    return client.get("/api/me", headers={"Authorization": f"Bearer {token}"})


def published(client: Client) -> dict[str, Any]:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response["Cache-Control"] == f"public, max-age={ownkeys.JWKS_MAX_AGE}"
    assert response["Access-Control-Allow-Origin"] == "*"
    document = response.json()
    return {key["kid"]: key for key in document["keys"]}


def gateway_verifies(token: str, keys: dict[str, Any]) -> dict[str, Any]:
    """What another service does with our JWKS: pick the key by kid, verify the signature
    (the times are the fake clock's, so PyJWT's wall-clock checks are off)."""
    header = jwt.get_unverified_header(token)
    key = jwt.PyJWK(keys[header["kid"]]).key
    options: Any = {"verify_iat": False, "verify_exp": False, "verify_nbf": False}
    algorithms = [header["alg"]]
    return dict(jwt.decode(token, key, algorithms, options, issuer="django-hardening"))


def test_a_single_rs256_key_is_published_with_its_thumbprint(
    client: Client, user: Any, settings: Any
) -> None:
    settings.HARDENING_JWT_ALGORITHM = "RS256"
    settings.HARDENING_JWT_SIGNING_KEY = private_pem(rsa_key("own"))
    settings.HARDENING_JWT_VERIFYING_KEY = public_pem(rsa_key("own"))
    keys = published(client)
    (kid,) = keys
    assert kid == signingkey.thumbprint(public_pem(rsa_key("own")))
    assert keys[kid]["alg"] == "RS256" and keys[kid]["use"] == "sig" and "d" not in keys[kid]
    access = issue_token_pair(user, amr=["pwd"])["access"]
    assert gateway_verifies(access, keys)["user_id"] == str(user.pk)
    assert me(client, access).status_code == 200


def test_hs256_publishes_nothing(client: Client, settings: Any) -> None:
    settings.HARDENING_JWT_ALGORITHM = "HS256"
    assert published(client) == {}


def test_rotation_prepublish_activate_retire(
    client: Client, user: Any, settings: Any, clock: FakeClock
) -> None:
    now = clock.now()
    settings.HARDENING_JWT_ALGORITHM = "ES256"
    settings.HARDENING_JWT_ACCESS_TOKEN_LIFETIME = 900
    settings.HARDENING_JWT_REFRESH_TOKEN_LIFETIME = DAY
    settings.HARDENING_JWT_SIGNING_KEY = [
        {"kid": "old", "key": private_pem(ec_key("old"))},
        {"kid": "new", "key": private_pem(ec_key("new")), "active_from": now + DAY},
    ]
    assert set(published(client)) == {"old", "new"}  # the new key is known before it signs
    before = issue_token_pair(user, amr=["pwd"])["access"]
    assert jwt.get_unverified_header(before)["kid"] == "old"

    clock.advance(DAY + 1)  # the new key signs; the old one still verifies
    after = issue_token_pair(user, amr=["pwd"])
    assert jwt.get_unverified_header(after["access"])["kid"] == "new"
    assert me(client, after["access"]).status_code == 200
    assert set(published(client)) == {"old", "new"}
    assert ownkeys.verifying_key("old", "ES256")  # tokens signed before the switch verify
    assert not check_own_keys()

    clock.advance(DAY + 10)  # longer than any token lives: the old key is retired
    assert set(published(client)) == {"new"}
    assert ownkeys.verifying_key("old", "ES256") == ""
    assert [m.id for m in check_own_keys()] == ["hardening.W131"]
    assert ownkeys.verifying_key("unknown", "ES256") == ""


def test_a_key_that_is_not_active_yet_never_verifies(settings: Any, clock: FakeClock) -> None:
    settings.HARDENING_JWT_ALGORITHM = "ES256"
    settings.HARDENING_JWT_SIGNING_KEY = [
        {"kid": "a", "key": private_pem(ec_key("a"))},
        {"kid": "b", "key": private_pem(ec_key("b")), "active_from": "2999-01-01T00:00:00Z"},
    ]
    assert ownkeys.verifying_key("a", "ES256")
    assert ownkeys.verifying_key("b", "ES256") == ""


def test_moving_from_one_key_to_a_list_keeps_issued_tokens_valid(
    client: Client, user: Any, settings: Any
) -> None:
    settings.HARDENING_JWT_ALGORITHM = "RS256"
    settings.HARDENING_JWT_SIGNING_KEY = private_pem(rsa_key("own"))
    settings.HARDENING_JWT_VERIFYING_KEY = public_pem(rsa_key("own"))
    access = issue_token_pair(user, amr=["pwd"])["access"]
    settings.HARDENING_JWT_SIGNING_KEY = [{"key": private_pem(rsa_key("own"))}]  # kid: thumbprint
    settings.HARDENING_JWT_VERIFYING_KEY = ""
    assert me(client, access).status_code == 200


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ([{"kid": "a"}], "hardening.E131"),
        ([{"key": "x", "kid": "a"}, {"key": "y", "kid": "a"}], "hardening.E131"),
        ([{"key": "x", "when": 1}], "hardening.E131"),
        ([{"key": private_pem(rsa_key("own")), "active_from": "2999-01-01"}], "hardening.E132"),
        ([{"key": "not a pem", "kid": "a"}], "hardening.E133"),
    ],
)
def test_checks(settings: Any, value: Any, code: str) -> None:
    settings.HARDENING_JWT_ALGORITHM = "RS256"
    settings.HARDENING_JWT_SIGNING_KEY = value
    assert code in [m.id for m in check_own_keys()]


def test_rotate_command_prints_the_next_value(
    client: Client, user: Any, settings: Any, clock: FakeClock
) -> None:
    settings.HARDENING_JWT_ALGORITHM = "RS256"
    settings.HARDENING_JWT_SIGNING_KEY = private_pem(rsa_key("own"))
    settings.HARDENING_JWT_VERIFYING_KEY = public_pem(rsa_key("own"))
    old = issue_token_pair(user, amr=["pwd"])["access"]
    out, err = StringIO(), StringIO()
    call_command("rotate_jwt_keys", "--activate-in", "3600", stdout=out, stderr=err)
    entries = json.loads(out.getvalue())
    assert len(entries) == 2 and "signs from" in err.getvalue()
    settings.HARDENING_JWT_SIGNING_KEY = entries
    settings.HARDENING_JWT_VERIFYING_KEY = ""
    assert len(published(client)) == 2
    assert me(client, old).status_code == 200
    clock.advance(3601)
    new = issue_token_pair(user, amr=["pwd"])["access"]
    assert jwt.get_unverified_header(new)["kid"] == entries[1]["kid"]
    assert gateway_verifies(new, published(client))["token_type"] == "access"


def test_the_jwks_only_answers_get_and_head(client: Client) -> None:
    response = client.post("/.well-known/jwks.json", {})
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["error"] == "method_not_allowed"
    assert client.head("/.well-known/jwks.json").status_code == 200
