from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.http import HttpRequest, HttpResponse
from django.test import override_settings

from hardening.observability.metrics import BANS, RATELIMIT_BLOCKS, RATELIMIT_CACHE_ERRORS
from hardening.ratelimit.middleware import RateLimitMiddleware
from hardening.request import state
from tests.helpers.clock import FakeClock
from tests.helpers.ratelimit import User, make, request, unique_ip

BACKENDS = [
    "default",
    pytest.param("redis", marks=pytest.mark.redis),
]


@pytest.fixture(params=BACKENDS)
def cache_alias(request: pytest.FixtureRequest) -> Iterator[str]:
    with override_settings(HARDENING_CACHE=request.param):
        yield request.param


def limit(*rates: str, key: str = "user", **extra: Any) -> override_settings:
    policy = {"name": "test", "key": key, "rates": list(rates), **extra}
    return override_settings(HARDENING_RATELIMIT_POLICIES=[policy])


def test_31_requests_at_30_per_minute_then_reset(
    cache_alias: str, events: list[Any], clock: FakeClock
) -> None:
    mw = make()
    user = User()
    with limit("30/m"):
        statuses = [mw(request(user=user)).status_code for _ in range(31)]
        assert statuses == [200] * 30 + [429]
        refused = mw(request(user=user))
        body = json.loads(refused.content)
        assert body["error"] == "rate_limited" and "request_id" in body
        retry_after = int(refused["Retry-After"])
        assert 1 <= retry_after <= 62
        # Never earlier than the real reset: one second before it, still refused.
        clock.advance(retry_after - 1)
        assert mw(request(user=user)).status_code == 429
        clock.advance(1)
        assert mw(request(user=user)).status_code == 200
        clock.advance(120)  # a whole quiet window later the full quota is back
        assert [mw(request(user=user)).status_code for _ in range(30)] == [200] * 30
    assert any(e == "ratelimit.limited" and f["policy"] == "test" for e, f in events)


@pytest.mark.redis
@override_settings(HARDENING_CACHE="redis")
def test_no_double_burst_at_the_window_edge(clock: FakeClock) -> None:
    mw = make()
    user = User()
    with limit("30/m"):
        assert mw(request(user=user)).status_code == 200
        clock.advance(58)
        assert [mw(request(user=user)).status_code for _ in range(29)] == [200] * 29
        clock.advance(3)  # a fixed window would hand out 30 more here
        allowed = [mw(request(user=user)).status_code for _ in range(30)].count(200)
        assert allowed <= 1


def test_all_windows_of_a_policy_apply(cache_alias: str, clock: FakeClock) -> None:
    mw = make()
    user = User()
    with limit("2/s", "5/m"):
        codes = []
        for _ in range(4):
            codes += [mw(request(user=user)).status_code for _ in range(3)]
            clock.advance(1.5)
        assert codes[:3] == [200, 200, 429]
        if cache_alias == "redis":  # the fixed-window fallback may cross a minute boundary
            assert codes.count(200) == 5


def test_refused_requests_do_not_use_other_quota(cache_alias: str, clock: FakeClock) -> None:
    if cache_alias == "default":
        pytest.skip("django-ratelimit's fixed window counts refused requests too")
    mw = make()
    user = User()
    two = [
        {"name": "a", "key": "user", "rates": ["100/m"]},
        {"name": "b", "key": "user", "rates": ["2/m"]},
    ]
    with override_settings(HARDENING_RATELIMIT_POLICIES=two, HARDENING_RATELIMIT_HEADERS=True):
        for _ in range(10):
            response = mw(request(user=user))
        assert '"a";r=98' in response["RateLimit"]


def test_keys_separate_users_ips_and_anonymous(cache_alias: str, clock: FakeClock) -> None:
    mw = make()
    policies = [
        {"name": "u", "key": "user", "rates": ["1/m"]},
        {"name": "anon", "key": "anon", "rates": ["1/m"]},
    ]
    ip = unique_ip()
    with override_settings(HARDENING_RATELIMIT_POLICIES=policies):
        assert mw(request(ip=ip)).status_code == 200
        assert mw(request(ip=ip)).status_code == 429
        # Authenticated users on the same IP are counted per user, not per IP.
        assert mw(request(ip=ip, user=User())).status_code == 200
        assert mw(request(ip=ip, user=User())).status_code == 200
        assert mw(request(ip=unique_ip())).status_code == 200


def test_exempt_paths_and_client_ip(cache_alias: str, clock: FakeClock) -> None:
    mw = make()
    with limit("0/m", key="ip"):
        req = request("/health/live")
        assert mw(req).status_code == 200
        assert state(req).client_ip == "192.0.2.10"
        assert mw(request("/metrics")).status_code == 200
        assert mw(request("/api/me", ip=unique_ip())).status_code == 429


@override_settings(ROOT_URLCONF="tests.ratelimit.urls")
def test_view_decorator_adds_a_policy_and_can_exempt(cache_alias: str, clock: FakeClock) -> None:
    mw = make()
    user = User()
    with limit("100/m"):
        assert [mw(request("/export", user=user)).status_code for _ in range(3)] == [
            200,
            200,
            429,
        ]
        assert mw(request("/plain", user=user)).status_code == 200
    with limit("0/m"):
        assert mw(request("/webhook", user=user)).status_code == 200
        assert mw(request("/plain", user=user)).status_code == 429


def test_headers_are_opt_in(cache_alias: str, clock: FakeClock) -> None:
    mw = make()
    user = User()
    with limit("3/m"):
        assert "RateLimit" not in mw(request(user=user))
    with limit("3/m"), override_settings(HARDENING_RATELIMIT_HEADERS=True):
        response = mw(request(user=User()))
        assert response["RateLimit-Policy"] == '"test";q=3;w=60'
        assert response["RateLimit"].startswith('"test";r=2;t=')


@override_settings(HARDENING_RATELIMIT_BANS={"threshold": 3, "tiers": [60, 600]})
def test_bans_escalate_and_can_be_lifted(
    cache_alias: str, events: list[Any], clock: FakeClock
) -> None:
    mw = make()
    user = User()
    bans = BANS.labels(policy="test")._value.get()
    with limit("1/m"):
        codes = [mw(request(user=user)).status_code for _ in range(4)]
        assert codes == [200, 429, 429, 429]
        banned = mw(request(user=user))
        assert json.loads(banned.content)["error"] == "banned"
        assert 55 <= int(banned["Retry-After"]) <= 60
        assert [e for e, _ in events].count("ratelimit.banned") == 1
        assert BANS.labels(policy="test")._value.get() == bans + 1  # counted once, not per 429
        clock.advance(120)  # the rate window is over, the ban (cache TTL) is not
        assert mw(request(user=user)).status_code == 429

        call_command("lift_ban", user=str(user.pk))
        assert mw(request(user=user)).status_code == 200
        assert "ratelimit.unbanned" in [e for e, _ in events]
        for _ in range(3):
            mw(request(user=user))
        second = mw(request(user=user))  # second ban: the next tier
        assert 595 <= int(second["Retry-After"]) <= 600
        call_command("lift_ban", user=str(user.pk), forget=True)
        assert mw(request(user=user)).status_code in (200, 429)
        clock.advance(120)
        assert mw(request(user=user)).status_code == 200


BROKEN = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "broken": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",  # discard port: connection refused
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    },
}


@override_settings(CACHES=BROKEN, HARDENING_CACHE="broken")
def test_cache_down_fails_open_or_closed_per_policy(events: list[Any]) -> None:
    mw = make()
    policies = [
        {"name": "general", "key": "ip", "rates": ["1/m"]},
        {"name": "login", "key": "ip", "rates": ["1/m"], "paths": ["/api/auth/token"]},
    ]
    before = RATELIMIT_CACHE_ERRORS.labels(policy="login", outcome="closed")._value.get()
    with override_settings(HARDENING_RATELIMIT_POLICIES=policies):
        assert mw(request("/api/me")).status_code == 200
        assert mw(request("/api/me")).status_code == 200
        closed = mw(request("/api/auth/token", method="POST"))
        assert closed.status_code == 503
        assert closed["Retry-After"] == "5"
        assert json.loads(closed.content)["error"] == "rate_limit_unavailable"
    after = RATELIMIT_CACHE_ERRORS.labels(policy="login", outcome="closed")._value.get()
    assert after == before + 1
    # One audit line per outage (when the breaker opens), not one per request.
    outcomes = [f["outcome"] for e, f in events if e == "ratelimit.cache_error"]
    assert outcomes == ["open"]


def test_blocks_are_counted(cache_alias: str, clock: FakeClock) -> None:
    mw = make()
    before = RATELIMIT_BLOCKS.labels(policy="test")._value.get()
    with limit("1/m"):
        user = User()
        mw(request(user=user))
        mw(request(user=user))
    assert RATELIMIT_BLOCKS.labels(policy="test")._value.get() == before + 1


def test_disabled_limits_nothing() -> None:
    mw = make()
    with limit("0/m", key="ip"), override_settings(HARDENING_RATELIMIT_ENABLED=False):
        assert mw(request()).status_code == 200


async def test_async_stack(cache_alias: str, clock: FakeClock) -> None:
    async def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    mw = RateLimitMiddleware(view)
    user = User()
    with limit("1/m"):
        first = await mw(request(user=user))
        second = await mw(request(user=user))
    assert (first.status_code, second.status_code) == (200, 429)
