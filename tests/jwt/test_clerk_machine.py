"""Clerk machine tokens: M2M JWTs (no sid) through the issuer's JWKS, opaque ak_/oat_/m2m_/mt_
tokens through a loopback server answering like Clerk's Backend API; positive and negative
cache, fail closed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from hardening.jwt import machine
from hardening.jwt.jws import TokenRejected
from hardening.jwt.verify import verify
from tests.helpers.clock import FakeClock
from tests.jwt.clerk_api import SECRET_KEY, ClerkAPI, answer
from tests.jwt.helpers import CLERK_ISSUER, JWKSServer, claims, rsa_key, sign, update_issuer

pytestmark = pytest.mark.django_db

APP = "https://app.example.com"
AK = "ak_" + "a1" * 16
M2M = "mt_" + "b2" * 16
OAT = "oat_" + "c3" * 16


@pytest.fixture
def api() -> Iterator[ClerkAPI]:
    machine.clear()
    with ClerkAPI() as server:
        yield server
    machine.clear()


@pytest.fixture
def machines(settings: Any, clerk: JWKSServer, api: ClerkAPI) -> ClerkAPI:
    update_issuer(settings, "clerk", machine_tokens=True, api_url=api.url, secret_key=SECRET_KEY)
    return api


def me(token: str) -> Any:
    return Client().get("/api/me", headers={"Authorization": f"Bearer {token}"})


def m2m_jwt(**changes: Any) -> str:
    values = {"sub": "mch_2abc", "scopes": ["mch_other"], **changes}
    return sign(claims(CLERK_ISSUER, **values), rsa_key("clerk"), kid="ins_1")


def test_without_machine_tokens_every_machine_token_is_refused(
    clerk: JWKSServer, api: ClerkAPI
) -> None:
    api.tokens[AK] = answer("ak_1", "user_1")
    for token in (AK, M2M, OAT, m2m_jwt()):
        response = me(token)
        assert response.status_code == 401, token
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert api.requests == []


def test_m2m_jwt_is_verified_locally(machines: ClerkAPI, clerk: JWKSServer) -> None:
    response = me(m2m_jwt())
    assert response.status_code == 200, response.content
    assert response.json()["sub"] == "mch_2abc"
    assert response.json()["auth"] == "clerk_machine"
    assert machines.requests == []  # the JWKS, not the Backend API
    # A session token still needs its sid, and a user's token without sid is not a machine.
    assert me(m2m_jwt(sub="user_1")).status_code == 401
    forged = sign(claims(CLERK_ISSUER, sub="mch_2abc"), rsa_key("other"), kid="ins_1")
    assert me(forged).status_code == 401


@pytest.mark.parametrize(
    ("token", "path", "field"),
    [
        (AK, "/v1/api_keys/verify", "secret"),
        (M2M, "/v1/m2m_tokens/verify", "token"),
        ("m2m_" + "d4" * 16, "/v1/m2m_tokens/verify", "token"),
        (OAT, "/v1/oauth_applications/access_tokens/verify", "access_token"),
    ],
)
def test_opaque_tokens_through_the_backend_api(
    machines: ClerkAPI, token: str, path: str, field: str
) -> None:
    machines.tokens[token] = answer("id_1", "mch_9", scopes=["orders:read"], client_id="cl_1")
    response = me(token)
    assert response.status_code == 200, response.content
    assert response.json()["sub"] == "mch_9" and response.json()["auth"] == "clerk_machine"
    assert machines.requests == [(path, {field: token}, f"Bearer {SECRET_KEY}")]
    found = verify(token)
    assert found.claims["scopes"] == ["orders:read"] and found.claims["azp"] == "cl_1"
    assert found.claims["iss"] == CLERK_ISSUER and found.kind == "clerk_machine"


def accepted(token: str) -> bool:
    """Straight through verify(): these tests move the fake clock, and a request through the
    timeout middleware under a fake clock would leave the watchdog a deadline."""
    try:
        verify(token)
    except TokenRejected:
        return False
    return True


def test_positive_cache_then_revocation_is_seen(machines: ClerkAPI, clock: FakeClock) -> None:
    machines.tokens[AK] = answer("ak_1", "user_1")
    assert accepted(AK) and accepted(AK)
    assert len(machines.requests) == 1  # cached
    machines.tokens[AK] = answer("ak_1", "user_1", revoked=True)
    clock.advance(machine.POSITIVE_SECONDS + 1)
    assert not accepted(AK)
    assert len(machines.requests) == 2


def test_negative_cache(machines: ClerkAPI, clock: FakeClock) -> None:
    for _ in range(3):
        assert not accepted(AK)
    assert len(machines.requests) == 1
    clock.advance(machine.NEGATIVE_SECONDS + 1)
    machines.tokens[AK] = answer("ak_1", "user_1")
    assert accepted(AK)


@pytest.mark.parametrize(
    "refusal",
    [
        {"revoked": True},
        {"expired": True},
        {"expiration": 1_000_000},  # in the past (seconds)
        {"subject": ""},
    ],
)
def test_clerk_says_no(machines: ClerkAPI, refusal: dict[str, Any]) -> None:
    machines.tokens[AK] = {**answer("ak_1", "user_1"), **refusal}
    assert me(AK).status_code == 401


def test_inactive_oauth_token(machines: ClerkAPI) -> None:
    machines.tokens[OAT] = {"active": False}
    assert me(OAT).status_code == 401


def test_fails_closed_and_cools_down(machines: ClerkAPI, settings: Any) -> None:
    machines.tokens[AK] = answer("ak_1", "user_1")
    machines.status = 503
    assert me(AK).status_code == 401
    assert len(machines.requests) == 1
    assert me(AK).status_code == 401  # cooldown: not asked again
    assert len(machines.requests) == 1
    machine._down_until[0] = 0.0
    machines.status = None
    assert me(AK).status_code == 200  # the outage was not cached as a refusal


def test_a_slow_clerk_is_refused_within_the_timeout(
    machines: ClerkAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    monkeypatch.setattr(machine, "TIMEOUT", 0.3)
    machines.tokens[AK] = answer("ak_1", "user_1")
    machines.delay = 2.0
    started = time.monotonic()
    assert me(AK).status_code == 401
    assert time.monotonic() - started < 1.5


def test_wrong_secret_key_and_unreachable_api(machines: ClerkAPI, settings: Any) -> None:
    machines.tokens[AK] = answer("ak_1", "user_1")
    update_issuer(settings, "clerk", secret_key="sk_test_wrong")
    assert me(AK).status_code == 401
    update_issuer(settings, "clerk", secret_key=SECRET_KEY, api_url="http://127.0.0.1:9/v1")
    assert me(AK).status_code == 401


def test_malformed_and_cookie_tokens_never_reach_clerk(machines: ClerkAPI) -> None:
    assert me("ak_short").status_code == 401
    assert me("ak_" + "x" * 600).status_code == 401
    assert me("ak_" + "a" * 20 + "\u00e9").status_code == 401
    assert machines.requests == []


def test_checks(settings: Any, clerk: JWKSServer) -> None:
    from tests.helpers.checks import check_error_codes, production

    entry = {
        "preset": "clerk",
        "issuer": CLERK_ISSUER,
        "jwks_url": "https://clerk.example.com/.well-known/jwks.json",
        "authorized_parties": [APP],
        "machine_tokens": True,
    }
    with production(HARDENING_JWT_ISSUERS=[entry]):
        codes = check_error_codes()
        assert codes.get("hardening.E805") == "ERROR" and "hardening.E806" not in codes
    plain = {**entry, "secret_key": "sk_live_x" * 4, "api_url": "http://api.clerk.com/v1"}
    with production(HARDENING_JWT_ISSUERS=[plain, {**plain, "label": "b"}]):
        codes = check_error_codes()
        assert codes.get("hardening.E806") == "ERROR" and "hardening.E805" not in codes
        assert codes.get("hardening.W802") == "WARNING"
    oidc = {"issuer": "https://login.example.com/", "machine_tokens": True}
    with production(HARDENING_JWT_ISSUERS=[oidc]):
        assert check_error_codes().get("hardening.E115") == "ERROR"  # Clerk-only key


def test_an_expiring_token_is_remembered_until_its_expiration_only(
    machines: ClerkAPI, clock: FakeClock
) -> None:
    expires = int(clock.t) + 10
    machines.tokens[AK] = answer(
        "ak_1", "user_1", expiration=expires * 1000, name=None, claims={"team": "ops"}
    )
    found = verify(AK)
    assert found.claims["exp"] == expires  # Clerk's milliseconds, as seconds
    assert found.claims["custom_claims"] == {"team": "ops"} and "name" not in found.claims
    clock.advance(9)
    assert accepted(AK) and len(machines.requests) == 1  # cached until exp
    clock.advance(2)  # past exp (within POSITIVE_SECONDS): Clerk is asked, and refuses it
    with pytest.raises(TokenRejected) as refused:
        verify(AK)
    assert refused.value.reason == "machine_invalid"
    assert len(machines.requests) == 2


def test_the_cache_keeps_the_newest_tokens(
    machines: ClerkAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(machine, "CACHE_SIZE", 2)
    tokens = [f"ak_{n}" + "d4" * 8 for n in range(3)]
    for n, token in enumerate(tokens):
        machines.tokens[token] = answer(f"ak_{n}", f"user_{n}")
        assert verify(token).claims["sub"] == f"user_{n}"
    assert len(machine._cache) == 2
    assert accepted(tokens[1]) and accepted(tokens[2]) and len(machines.requests) == 3
    assert accepted(tokens[0]) and len(machines.requests) == 4  # the oldest was dropped


def test_without_a_secret_key_clerk_is_not_asked(machines: ClerkAPI, settings: Any) -> None:
    machines.tokens[AK] = answer("ak_1", "user_1")
    update_issuer(settings, "clerk", secret_key="")
    with pytest.raises(TokenRejected) as refused:
        verify(AK)
    assert refused.value.reason == "machine_unavailable"
    assert machines.requests == []


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ((200, b"{not json"), "invalid_json"),
        ((200, b"[" * 30_000 + b"]" * 30_000), "invalid_json"),  # nested past recursion
        ((200, b"{" + b'"a": 1, ' * 10_000 + b'"b": 2}'), "too_large"),
        ((204, b""), "http_204"),
        ((302, b""), "http_302"),  # never followed
        ((429, b"{}"), "http_429"),
    ],
)
def test_an_answer_that_says_nothing_about_the_token_fails_closed_without_caching(
    machines: ClerkAPI,
    raw: tuple[int, bytes],
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    machines.tokens[AK] = answer("ak_1", "user_1")
    machines.raw = raw
    with caplog.at_level("WARNING", logger="hardening.jwt"), pytest.raises(TokenRejected) as no:
        verify(AK)
    assert no.value.reason == "machine_unavailable"
    assert f"Clerk machine-token verification unavailable ({reason})" in caplog.text
    assert machine._down_until[0] > 0  # cooldown, not a cached refusal
    machine._down_until[0] = 0.0
    machines.raw = None
    assert accepted(AK)


def test_an_api_url_that_is_not_http_is_never_opened(
    machines: ClerkAPI, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    update_issuer(settings, "clerk", api_url="file:///etc")
    with caplog.at_level("WARNING", logger="hardening.jwt"), pytest.raises(TokenRejected) as no:
        verify(AK)
    assert no.value.reason == "machine_unavailable"
    assert "unavailable (bad_url)" in caplog.text


def test_an_m2m_jwt_is_never_accepted_from_the_session_cookie(
    machines: ClerkAPI, settings: Any
) -> None:
    """Not even when the same token was just verified (and memoized) from the header."""
    update_issuer(settings, "clerk", session_cookie=True)
    token = m2m_jwt()
    for _ in range(2):  # the second verification is a memo hit
        assert verify(token).kind == "clerk_machine"
    with pytest.raises(TokenRejected) as info:
        verify(token, from_cookie=True)
    assert (info.value.reason, info.value.kind) == ("machine_token", "clerk")
