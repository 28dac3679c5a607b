"""The verified-token memo (HARDENING_JWT_VERIFIED_CACHE_SECONDS / _SIZE)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory, override_settings

from hardening.jwt import tokens, verifier
from hardening.jwt.auth import JWTAuthenticationMiddleware, verify_token
from hardening.jwt.jws import TokenRejected
from hardening.jwt.tokens import issue_token_pair, revoke_access_token
from hardening.jwt.verify import verified_memo
from tests.jwt.helpers import AUDIENCE, OIDC_ISSUER, JWKSServer, claims, jwk, rsa_key, sign

START = 2_000_000_000.0


class Spy:
    """Counts signature verifications (own tokens and other issuers)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        for module in (verifier, tokens):
            original = module.verify_signature

            def counting(*args: Any, _original: Callable[..., None] = original) -> None:
                self.calls += 1
                _original(*args)

            monkeypatch.setattr(module, "verify_signature", counting)


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = START
        monkeypatch.setattr(time, "time", lambda: self.now)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Spy:
    if "oidc" in request.fixturenames:
        # A cold key store's first fetch installs a new key set during the verification,
        # so that first token is not memoized; warm the store before counting.
        request.getfixturevalue("oidc")
        verify_token(oidc_token(sub="warm-up"))
    return Spy(monkeypatch)


def oidc_token(key: Any = None, kid: str = "k1", **changes: Any) -> str:
    return sign(claims(OIDC_ISSUER, aud=AUDIENCE, **changes), key, kid=kid)


def test_hit_skips_signature_verification(oidc: JWKSServer, spy: Spy) -> None:
    token = oidc_token(sub="memo-user")
    first = verify_token(token)
    assert spy.calls == 1
    for _ in range(5):
        again = verify_token(token)
        assert again[0] == first[0] and again[0] is not first[0]
        assert again[1] == first[1] and again[2] == first[2] == "oidc"
    assert spy.calls == 1
    verify_token(oidc_token(sub="other"))  # another token string: verified
    assert spy.calls == 2


def test_hit_sets_request_exactly_like_a_fresh_verification(oidc: JWKSServer, spy: Spy) -> None:
    token = oidc_token(sub="req-user")
    middleware = JWTAuthenticationMiddleware(lambda request: None)
    seen = []
    for _ in range(2):
        request = RequestFactory().get("/api/", HTTP_AUTHORIZATION=f"Bearer {token}")
        middleware(request)
        seen.append(request)
    assert spy.calls == 1
    fresh, hit = seen
    assert hit.user == fresh.user and hit.user.is_authenticated
    assert hit.user.claims == fresh.user.claims
    assert hit.auth_claims == fresh.auth_claims  # type: ignore[attr-defined]
    assert hit.hardening_auth_kind == fresh.hardening_auth_kind == "oidc"  # type: ignore[attr-defined]
    hit.auth_claims["sub"] = "tampered"  # type: ignore[attr-defined]
    assert verify_token(token)[0]["sub"] == "req-user"


def test_exp_is_never_extended(oidc: JWKSServer, spy: Spy, monkeypatch: Any) -> None:
    clock = Clock(monkeypatch)
    exp = int(START) + 30
    token = oidc_token(iat=int(START), nbf=int(START), exp=exp)
    verify_token(token)
    clock.now = exp - 0.5
    verify_token(token)
    assert spy.calls == 1  # memo hit just before exp
    clock.now = exp  # the leeway (5 s) still accepts it, but only a fresh verification may
    verify_token(token)
    assert spy.calls == 2
    verify_token(token)
    assert spy.calls == 3  # not memoized past exp
    clock.now = exp + 10
    with pytest.raises(TokenRejected) as caught:
        verify_token(token)
    assert caught.value.reason == "expired"


def test_ttl_is_respected(oidc: JWKSServer, spy: Spy, monkeypatch: Any, settings: Any) -> None:
    settings.HARDENING_JWT_VERIFIED_CACHE_SECONDS = 10
    clock = Clock(monkeypatch)
    token = oidc_token(iat=int(START), nbf=int(START), exp=int(START) + 600)
    verify_token(token)
    clock.now = START + 9.9
    verify_token(token)
    assert spy.calls == 1
    clock.now = START + 10
    verify_token(token)
    assert spy.calls == 2  # TTL over: verified again, and memoized again from now
    clock.now = START + 19.9
    verify_token(token)
    assert spy.calls == 2


@pytest.mark.parametrize("name", ["SECONDS", "SIZE"])
def test_zero_disables(oidc: JWKSServer, spy: Spy, settings: Any, name: str) -> None:
    setattr(settings, f"HARDENING_JWT_VERIFIED_CACHE_{name}", 0)
    assert verified_memo() is None
    token = oidc_token()
    for _ in range(3):
        verify_token(token)
    assert spy.calls == 3


def test_invalid_setting_disables(oidc: JWKSServer, spy: Spy, settings: Any) -> None:
    settings.HARDENING_JWT_VERIFIED_CACHE_SECONDS = "sixty"
    assert verified_memo() is None
    token = oidc_token()
    verify_token(token)
    verify_token(token)
    assert spy.calls == 2


@pytest.mark.django_db
def test_revoked_access_token_is_refused_even_when_memoized(
    settings: Any, django_user_model: Any, spy: Spy
) -> None:
    settings.HARDENING_JWT_REVOKE_ACCESS_TOKENS = True
    user = django_user_model.objects.create_user("memo", password="x")
    access = issue_token_pair(user, amr=["pwd"])["access"]
    verified, found, kind = verify_token(access)
    assert (found, kind) == (user, "jwt")
    verify_token(access)
    assert spy.calls == 1  # memoized
    revoke_access_token(verified)
    with pytest.raises(TokenRejected) as caught:
        verify_token(access)
    assert caught.value.reason == "revoked"
    with pytest.raises(TokenRejected):
        verify_token(access)


@pytest.mark.django_db
def test_user_is_looked_up_on_every_hit(django_user_model: Any, spy: Spy) -> None:
    user = django_user_model.objects.create_user("memo2", password="x")
    access = issue_token_pair(user, amr=["pwd"])["access"]
    verify_token(access)
    django_user_model.objects.filter(pk=user.pk).update(is_active=False)
    with pytest.raises(TokenRejected) as caught:
        verify_token(access)
    assert caught.value.reason == "user"
    assert spy.calls == 1  # the signature came from the memo, the user did not


@pytest.mark.django_db
def test_create_mode_memoizes_claims_not_the_user(
    oidc: JWKSServer, settings: Any, django_user_model: Any, spy: Spy
) -> None:
    settings.HARDENING_JWT_USER_MODE = "create"
    token = oidc_token(sub="created")
    first = verify_token(token)[1]
    django_user_model.objects.filter(pk=first.pk).update(is_active=False)
    with pytest.raises(TokenRejected) as caught:
        verify_token(token)
    assert caught.value.reason == "user"
    assert spy.calls == 1


def test_key_rotation_clears(oidc: JWKSServer, spy: Spy, settings: Any) -> None:
    settings.HARDENING_JWKS_COOLDOWN = 0  # a setting change: the key store is cold again
    verify_token(oidc_token(sub="warm-up"))
    spy.calls = 0
    old = oidc_token()
    verify_token(old)
    verify_token(old)
    assert spy.calls == 1
    new_key = rsa_key("rotated")
    oidc.keys = [jwk(new_key, "k2")]  # the provider drops k1
    verify_token(oidc_token(new_key, kid="k2"))  # unknown kid: the store refetches
    with pytest.raises(TokenRejected) as caught:
        verify_token(old)
    assert caught.value.reason == "unknown_key"


def test_size_bound_evicts_oldest(oidc: JWKSServer, spy: Spy, settings: Any) -> None:
    settings.HARDENING_JWT_VERIFIED_CACHE_SIZE = 3
    tokens_ = [oidc_token(sub=f"u{i}") for i in range(4)]
    for token in tokens_:
        verify_token(token)
    memo = verified_memo()
    assert memo is not None and len(memo) == 3
    assert spy.calls == 4
    for token in tokens_[1:]:
        verify_token(token)
    assert spy.calls == 4  # the three newest are memoized
    verify_token(tokens_[0])
    assert spy.calls == 5  # the oldest was evicted


def test_setting_changed_clears(oidc: JWKSServer, spy: Spy) -> None:
    token = oidc_token()
    verify_token(token)
    memo = verified_memo()
    assert memo is not None and len(memo) == 1
    with override_settings(HARDENING_JWT_LEEWAY=5):
        assert len(memo) == 0
        verify_token(token)
    assert spy.calls == 2


def test_clerk_cookie_does_not_accept_a_memoized_oidc_token(oidc: JWKSServer) -> None:
    token = oidc_token()
    verify_token(token)
    with pytest.raises(TokenRejected) as caught:
        verify_token(token, clerk_only=True)
    assert caught.value.reason == "unknown_issuer"


def test_rejections_are_not_memoized(oidc: JWKSServer, spy: Spy) -> None:
    bad = oidc_token(rsa_key("attacker"))
    for _ in range(2):
        with pytest.raises(TokenRejected):
            verify_token(bad)
    assert spy.calls == 2
    memo = verified_memo()
    assert memo is not None and len(memo) == 0


def test_concurrent_threads(oidc: JWKSServer, settings: Any) -> None:
    settings.HARDENING_JWT_VERIFIED_CACHE_SIZE = 8  # smaller than the token set: evictions
    subjects = [f"t{i}" for i in range(16)]
    signed = {sub: oidc_token(sub=sub) for sub in subjects}
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(offset: int) -> None:
        try:
            barrier.wait(timeout=10)
            for n in range(150):
                sub = subjects[(n + offset) % len(subjects)]
                got, user, kind = verify_token(signed[sub])
                assert got["sub"] == sub and user.pk == sub and kind == "oidc"
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    memo = verified_memo()
    assert memo is not None and len(memo) <= 8


def test_anonymous_on_rejection_after_hit(oidc: JWKSServer, settings: Any) -> None:
    token = oidc_token()
    verify_token(token)
    settings.HARDENING_OIDC_AUDIENCE = "another-api"  # setting change: memo dropped
    request = RequestFactory().get("/api/", HTTP_AUTHORIZATION=f"Bearer {token}")
    JWTAuthenticationMiddleware(lambda request: None)(request)
    assert isinstance(request.user, AnonymousUser)


def test_cold_store_first_token_is_verified_twice_then_memoized(oidc: JWKSServer) -> None:
    token = oidc_token()
    verify_token(token)  # the store fetched its keys during this verification
    memo = verified_memo()
    assert memo is not None and len(memo) == 0
    verify_token(token)
    assert len(memo) == 1
