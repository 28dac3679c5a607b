"""The verified-token memo (hardening.jwt.verify.MEMO_SECONDS / MEMO_SIZE)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory, override_settings

from hardening.jwt import keys, verify
from hardening.jwt.auth import CredentialMiddleware, verify_token
from hardening.jwt.jws import TokenRejected
from hardening.jwt.tokens import issue_token_pair, revoke_access_token
from hardening.jwt.verify import verified_memo
from hardening.request import state
from tests.helpers.clock import FakeClock
from tests.jwt.helpers import (
    AUDIENCE,
    OIDC_ISSUER,
    JWKSServer,
    claims,
    jwk,
    rsa_key,
    sign,
    update_issuer,
)

START = FakeClock().t  # where the one fake clock starts


class Spy:
    """Counts signature verifications (own tokens and other issuers)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = verify.verify_signature  # own tokens and other issuers alike

        def counting(*args: Any) -> None:
            self.calls += 1
            original(*args)

        monkeypatch.setattr(verify, "verify_signature", counting)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Spy:
    times: dict[str, Any] = {}
    if "clock" in request.fixturenames:
        # The warm-up must fetch on the fake clock's timeline: keys fetched at the real
        # monotonic time look stale (or fresh) to the fake one depending on the machine's
        # uptime, and a refetch during the test changes the key set (no memo entry).
        now = int(request.getfixturevalue("clock").t)
        times = {"iat": now, "nbf": now - 1, "exp": now + 60}
    if "oidc" in request.fixturenames:
        # A cold key store's first fetch installs a new key set during the verification,
        # so that first token is not memoized; warm the store before counting.
        request.getfixturevalue("oidc")
        verify_token(oidc_token(sub="warm-up", **times))
    return Spy(monkeypatch)


def memo_constant(monkeypatch: pytest.MonkeyPatch, name: str, value: float) -> None:
    """Change a memo constant (a test seam: the memo is rebuilt from them)."""
    monkeypatch.setattr(verify, name, value)
    verify.clear_memo()


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
    middleware = CredentialMiddleware(lambda request: None)
    seen = []
    for _ in range(2):
        request = RequestFactory().get("/api/", HTTP_AUTHORIZATION=f"Bearer {token}")
        middleware(request)
        seen.append(request)
    assert spy.calls == 1
    fresh, hit = seen
    assert hit.user == fresh.user and hit.user.is_authenticated
    assert hit.user.claims == fresh.user.claims
    hit_credential, fresh_credential = state(hit).credential, state(fresh).credential
    assert hit_credential is not None and fresh_credential is not None
    assert hit_credential.claims == fresh_credential.claims
    assert state(hit).auth_kind == state(fresh).auth_kind == "oidc"
    claims_seen = hit_credential.claims
    assert isinstance(claims_seen, dict)
    claims_seen["sub"] = "tampered"
    assert verify_token(token)[0]["sub"] == "req-user"


def test_exp_is_never_extended(oidc: JWKSServer, spy: Spy, clock: FakeClock) -> None:
    exp = int(START) + 30
    token = oidc_token(iat=int(START), nbf=int(START), exp=exp)
    verify_token(token)
    clock.t = exp - 0.5
    verify_token(token)
    assert spy.calls == 1  # memo hit just before exp
    clock.t = exp  # the leeway (5 s) still accepts it, but only a fresh verification may
    verify_token(token)
    assert spy.calls == 2
    verify_token(token)
    assert spy.calls == 3  # not memoized past exp
    clock.t = exp + 10
    with pytest.raises(TokenRejected) as caught:
        verify_token(token)
    assert caught.value.reason == "expired"


def test_ttl_is_respected(
    oidc: JWKSServer, spy: Spy, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    memo_constant(monkeypatch, "MEMO_SECONDS", 10)
    token = oidc_token(iat=int(START), nbf=int(START), exp=int(START) + 600)
    verify_token(token)
    clock.t = START + 9.9
    verify_token(token)
    assert spy.calls == 1
    clock.t = START + 10
    verify_token(token)
    assert spy.calls == 2  # TTL over: verified again, and memoized again from now
    clock.t = START + 19.9
    verify_token(token)
    assert spy.calls == 2


@pytest.mark.parametrize("name", ["MEMO_SECONDS", "MEMO_SIZE"])
def test_zero_disables(
    oidc: JWKSServer, spy: Spy, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    memo_constant(monkeypatch, name, 0)
    assert verified_memo() is None
    token = oidc_token()
    for _ in range(3):
        verify_token(token)
    assert spy.calls == 3


def test_the_removed_setting_is_ignored(oidc: JWKSServer, spy: Spy, settings: Any) -> None:
    settings.HARDENING_JWT_VERIFIED_CACHE_SECONDS = 0  # removed (E032): the memo stays on
    assert verified_memo() is not None
    token = oidc_token()
    verify_token(token)
    verify_token(token)
    assert spy.calls == 1  # memoized


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


def test_key_rotation_clears(oidc: JWKSServer, spy: Spy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys, "COOLDOWN", 0.0)
    keys.clear_stores()  # the key store is cold again
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


def test_size_bound_evicts_oldest(
    oidc: JWKSServer, spy: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    memo_constant(monkeypatch, "MEMO_SIZE", 3)
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
    with override_settings(HARDENING_JWT_USER_MODE="stateless"):
        assert len(memo) == 0
        verify_token(token)
    assert spy.calls == 2


def test_clerk_cookie_does_not_accept_a_memoized_oidc_token(oidc: JWKSServer) -> None:
    token = oidc_token()
    verify_token(token)
    with pytest.raises(TokenRejected) as caught:
        verify_token(token, from_cookie=True)
    assert caught.value.reason == "unknown_issuer"


def test_rejections_are_not_memoized(oidc: JWKSServer, spy: Spy) -> None:
    bad = oidc_token(rsa_key("attacker"))
    for _ in range(2):
        with pytest.raises(TokenRejected):
            verify_token(bad)
    assert spy.calls == 2
    memo = verified_memo()
    assert memo is not None and len(memo) == 0


def test_concurrent_threads(oidc: JWKSServer, monkeypatch: pytest.MonkeyPatch) -> None:
    memo_constant(monkeypatch, "MEMO_SIZE", 8)  # smaller than the token set: evictions
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
    update_issuer(settings, "oidc", audience="another-api")  # setting change: memo dropped
    request = RequestFactory().get("/api/", HTTP_AUTHORIZATION=f"Bearer {token}")
    CredentialMiddleware(lambda request: None)(request)
    assert isinstance(request.user, AnonymousUser)


def test_cold_store_first_token_is_verified_twice_then_memoized(oidc: JWKSServer) -> None:
    token = oidc_token()
    verify_token(token)  # the store fetched its keys during this verification
    memo = verified_memo()
    assert memo is not None and len(memo) == 0
    verify_token(token)
    assert len(memo) == 1


def test_an_entry_without_a_numeric_exp_is_not_memoized() -> None:
    from hardening.jwt.verify import Verified, VerifiedMemo

    memo = VerifiedMemo(60, 10)
    for exp in (None, "tomorrow", True):
        memo.put(memo.digest(f"t-{exp}"), Verified({"sub": "x", "exp": exp}, "oidc", None))
    assert len(memo) == 0


def test_an_insert_sweeps_a_bounded_number_of_expired_entries(clock: FakeClock) -> None:
    from hardening.jwt.verify import SWEEP_PER_INSERT, Verified, VerifiedMemo

    memo = VerifiedMemo(60, 1000)
    stale = SWEEP_PER_INSERT + 3
    for n in range(stale):
        memo.put(memo.digest(f"old-{n}"), Verified({"exp": clock.now() + 30}, "oidc", None))
    assert len(memo) == stale
    clock.advance(31)  # every entry so far has expired
    memo.put(memo.digest("new"), Verified({"exp": clock.now() + 30}, "oidc", None))
    # At most SWEEP_PER_INSERT expired entries go per insert (no insert scans the memo).
    assert len(memo) == stale + 1 - SWEEP_PER_INSERT
    assert memo.get(memo.digest("new")) is not None
    assert memo.get(memo.digest(f"old-{stale - 1}")) is None  # expired, if still stored


@pytest.mark.django_db
def test_zero_disables_for_own_tokens_too(
    django_user_model: Any, spy: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    memo_constant(monkeypatch, "MEMO_SIZE", 0)
    user = django_user_model.objects.create_user("memo-off", password="x")
    access = issue_token_pair(user, amr=["pwd"])["access"]
    for _ in range(3):
        assert verify_token(access)[1] == user
    assert spy.calls == 3
