"""The script carries a revocation lookup: ``EXISTS`` first, then only the policy set that
applies (as authenticated, or as if the token were refused), in one ``EVALSHA``."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.cache import caches
from django.test import override_settings

from hardening.ratelimit.conf import config
from hardening.ratelimit.decision import Check, Revocation
from hardening.ratelimit.limiter import Limiter
from tests.helpers.clock import FakeClock

pytestmark = pytest.mark.redis

POLICIES = [
    {"name": "rv-user", "key": "user", "rates": ["3/m"]},
    {"name": "rv-anon", "key": "anon", "rates": ["2/m"]},
]


def run(revoked_key: bool, clock: FakeClock) -> tuple[Any, Any, list[str]]:
    cache = caches["redis"]
    tag = uuid.uuid4().hex[:10]
    jti = f"hardening:jwt:revoked:{tag}"
    if revoked_key:
        cache.set(jti, 1, 60)
    cfg = config()
    user_policy, anon_policy = cfg.policies
    uid, ip = f"u:{tag}", f"ip:198.51.100.{len(tag)}-{tag}"
    checks = [Check(user_policy, r, uid, uid) for r in user_policy.rates]
    alt = [Check(anon_policy, r, ip, ip) for r in anon_policy.rates]
    revocation = Revocation([jti, "hardening:jwt:revoked-family:" + tag], alt, [ip])
    limiter = Limiter()
    decisions = [limiter.decide(checks, [uid, ip], cfg, revocation) for _ in range(3)]
    plain = limiter.decide(checks, [uid, ip], cfg)  # without a lookup: set A, as before
    client = cache.client.get_client(write=True)
    names = list(client.scan_iter(match=cache.make_key(f"hrl:*{tag}*")))
    cache.delete(jti)
    if names:
        client.delete(*names)
    return decisions, plain, [str(n) for n in names]


@pytest.mark.parametrize("bans", [True, False])
def test_not_revoked_decides_the_authenticated_set(bans: bool, clock: FakeClock) -> None:
    with override_settings(
        HARDENING_CACHE="redis",
        HARDENING_RATELIMIT_POLICIES=POLICIES,
        HARDENING_RATELIMIT_BANS={"threshold": 10} if bans else None,
    ):
        decisions, plain, names = run(False, clock)
    assert [d.revoked for d in decisions] == [False, False, False]
    assert [d.allowed for d in decisions] == [True, True, True]
    assert [d.windows[0].check.policy.name for d in decisions] == ["rv-user"] * 3
    assert plain.revoked is None and not plain.allowed  # the 4th of 3/m
    assert not [n for n in names if "rv-anon" in n]  # set B never touched


def test_revoked_decides_the_anonymous_set(clock: FakeClock) -> None:
    with override_settings(HARDENING_CACHE="redis", HARDENING_RATELIMIT_POLICIES=POLICIES):
        decisions, plain, names = run(True, clock)
    assert [d.revoked for d in decisions] == [True, True, True]
    assert [d.allowed for d in decisions] == [True, True, False]  # anon 2/m
    assert decisions[2].policy == "rv-anon"
    assert plain.revoked is None and plain.allowed  # the user set was never counted
    assert [w.remaining for w in plain.windows] == [2]
