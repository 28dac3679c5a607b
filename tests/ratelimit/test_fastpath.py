"""The hot path's shortcuts give exactly what the slow path gives: the same Redis keys as
``cache.make_key``, re-resolved when the settings change, and the same IP masking."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import caches
from django.test import override_settings

from hardening.ratelimit import ip as ip_module
from hardening.ratelimit.conf import config
from hardening.ratelimit.decision import Check
from hardening.ratelimit.ip import masked_ip
from hardening.ratelimit.limiter import Limiter, redis_client, redis_target
from tests.helpers.clock import FakeClock
from tests.helpers.ratelimit import User, make, request

NAMES = [
    "hrl:ban:{u:42}",
    "hrl:w:{ip:2001:db8::}:user:60",
    "hrl:w:{*}:global:60",
    "hrl:vio:{ip:[x]}",
]


def django_redis_caches(**extra: Any) -> dict[str, Any]:
    # Never connected: resolving the client and the prefix needs no server.
    return {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "rl": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            **extra,
        },
    }


@pytest.mark.parametrize(
    "extra",
    [{}, {"KEY_PREFIX": "site-a", "VERSION": 7}, {"KEY_PREFIX": "p:q", "VERSION": 0}],
)
def test_prefix_equals_make_key(extra: dict[str, Any]) -> None:
    with override_settings(CACHES=django_redis_caches(**extra), HARDENING_CACHE="rl"):
        target = redis_target()
        assert target is not None
        cache = caches["rl"]
        for name in NAMES:
            assert target.prefix + name == cache.make_key(name)


def custom_key(key: str, prefix: str, version: int) -> str:
    return f"{version}|{prefix}|{key}"


def test_custom_key_function_is_not_shortcut() -> None:
    caches_ = django_redis_caches(KEY_FUNCTION=f"{__name__}.custom_key")
    with override_settings(CACHES=caches_, HARDENING_CACHE="rl"):
        assert redis_target() is None


def test_target_follows_setting_changes() -> None:
    with override_settings(CACHES=django_redis_caches(KEY_PREFIX="one")):
        with override_settings(HARDENING_CACHE="rl"):
            first = redis_target()
            assert first is not None and first.prefix.startswith("one:")
        with override_settings(HARDENING_CACHE="default"):
            assert redis_target() is None  # LocMemCache
    with override_settings(CACHES=django_redis_caches(KEY_PREFIX="two"), HARDENING_CACHE="rl"):
        second = redis_target()
        assert second is not None and second.prefix.startswith("two:")


def spy_keys(client: Any, seen: list[tuple[Any, ...]]) -> Any:
    original = client.evalsha

    def spy(*args: Any) -> Any:
        seen.append(("EVALSHA", *args))
        return original(*args)

    return spy


@pytest.mark.redis
@pytest.mark.parametrize("custom", [False, True])
def test_evalsha_keys_equal_make_key(
    custom: bool, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    from django.conf import settings

    caches_ = {**settings.CACHES}
    if custom:
        caches_["redis"] = {**caches_["redis"], "KEY_FUNCTION": f"{__name__}.custom_key"}
    policies = [{"name": "user", "key": "user", "rates": ["5/m", "50/h"]}]
    with override_settings(
        CACHES=caches_, HARDENING_CACHE="redis", HARDENING_RATELIMIT_POLICIES=policies
    ):
        assert (redis_target() is None) is custom
        cache = caches["redis"]
        client = redis_client(cache)
        assert client is not None
        seen: list[tuple[Any, ...]] = []
        target = redis_target()
        patched = target.client if target is not None else client
        monkeypatch.setattr(patched, "evalsha", spy_keys(patched, seen))
        user = User()
        cfg = config()
        policy = cfg.policies[0]
        ip = "ip:" + masked_ip("192.0.2.7")
        checks = [Check(policy, rate, f"u:{user.pk}", f"u:{user.pk}") for rate in policy.rates]
        decision = Limiter().decide(checks, [f"u:{user.pk}", ip], cfg)
        assert decision.allowed and [w.remaining for w in decision.windows] == [4, 49]
        evalsha = [a for a in seen if a[0] == "EVALSHA"]
        assert len(evalsha) == 1
        numkeys = evalsha[0][2]
        names = [
            f"hrl:{kind}:{{{i}}}" for kind in ("ban", "vio", "lvl") for i in (checks[0].bucket, ip)
        ]
        bucket = "{" + checks[0].bucket + "}"
        names += [f"hrl:w:{bucket}:user:60", f"hrl:w:{bucket}:user:3600"]
        names += [f"hrl:lw:{bucket}:user:60", f"hrl:lw:{bucket}:user:3600"]
        assert list(evalsha[0][3 : 3 + numkeys]) == [cache.make_key(n) for n in names]
        client.delete(*[cache.make_key(n) for n in names])


def test_masking_follows_the_mask_constants(monkeypatch: pytest.MonkeyPatch) -> None:
    assert masked_ip("2001:db8:1:2:3::9") == "2001:db8:1:2::"
    assert masked_ip("") == ""  # no address (an ASGI server without a client)
    with monkeypatch.context() as patch:
        patch.setattr(ip_module, "IPV6_MASK", 48)
        patch.setattr(ip_module, "IPV4_MASK", 24)
        assert masked_ip("2001:db8:1:2:3::9") == "2001:db8:1::"
        assert masked_ip("192.0.2.77") == "192.0.2.0"
    assert masked_ip("192.0.2.77") == "192.0.2.77"
    with pytest.raises(ValueError):
        masked_ip("not an ip")


def test_middleware_still_counts_after_a_cache_switch(clock: FakeClock) -> None:
    mw = make()
    policies = [{"name": "t", "key": "ip", "rates": ["1/m"]}]
    with override_settings(HARDENING_RATELIMIT_POLICIES=policies):
        assert mw(request(ip="192.0.2.200")).status_code == 200
        assert mw(request(ip="192.0.2.200")).status_code == 429
