from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from tests.helpers.checks import check_error_codes, production

MW = "hardening.middleware.RateLimitMiddleware"
JWT = "hardening.middleware.CredentialMiddleware"

CLUSTER = {
    "BACKEND": "hardening.cache.RedisClusterCache",
    "LOCATION": ["redis://127.0.0.1:7000"],
    "OPTIONS": {"socket_timeout": 0.25},
}
SHARDED = {
    "BACKEND": "django_redis.cache.RedisCache",
    "LOCATION": ["redis://127.0.0.1:6379/0", "redis://127.0.0.1:6380/0"],
    "OPTIONS": {"CLIENT_CLASS": "django_redis.client.ShardClient", "SOCKET_TIMEOUT": 1},
}

KEY_FUNCTION = "tests.ratelimit.test_fastpath.custom_key"

CASES = [
    ({"CACHES": {"default": {**CLUSTER, "KEY_PREFIX": "site{a}"}}}, "hardening.E064"),
    ({"CACHES": {"default": {**CLUSTER, "KEY_FUNCTION": KEY_FUNCTION}}}, "hardening.E065"),
    ({"CACHES": {"default": SHARDED}}, "hardening.E066"),
    ({"HARDENING_RATELIMIT_POLICIES": [{"name": "x", "rate": "10/minute"}]}, "hardening.E300"),
    (
        {"HARDENING_RATELIMIT_POLICIES": [{"name": "x", "key": "cookie", "rate": "1/m"}]},
        "hardening.E300",
    ),
    ({"HARDENING_RATELIMIT_EXEMPT_PATHS": ["^(("]}, "hardening.E300"),
    ({"HARDENING_TRUSTED_PROXY_COUNT": "1"}, "hardening.E301"),
    ({"HARDENING_TRUSTED_PROXY_COUNT": -2}, "hardening.E301"),
    ({"HARDENING_TRUSTED_PROXIES": ["10.0.0.0/33"]}, "hardening.E302"),
    (
        {
            "HARDENING_TRUSTED_PROXY_COUNT": 1,
            "HARDENING_TRUSTED_PROXIES": ["10.0.0.0/8"],
            "HARDENING_CLIENT_IP_HEADER": "",
        },
        "hardening.E303",
    ),
    ({"HARDENING_RATELIMIT_BANS": {"tiers": [300, 0]}}, "hardening.E304"),
    ({"HARDENING_RATELIMIT_BANS": {"tiers": ["soon"]}}, "hardening.E304"),
    ({"MIDDLEWARE": [m for m in settings.MIDDLEWARE if m != MW]}, "hardening.E305"),
    ({"HARDENING_TRUSTED_PROXY_COUNT": 1}, "hardening.W300"),
    ({"HARDENING_TRUSTED_PROXIES": ["10.0.0.0/8"]}, "hardening.W301"),
    # Out of the canonical order (rate limits before the user is known): hardening.E033.
    ({"MIDDLEWARE": [MW, *(m for m in settings.MIDDLEWARE if m != MW)]}, "hardening.E033"),
    (
        {"MIDDLEWARE": [m for m in settings.MIDDLEWARE if m not in (MW, JWT)] + [MW, JWT]},
        "hardening.E033",
    ),
    (
        {"CACHES": {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache"}}},
        "hardening.W303",
    ),
    (
        {"CACHES": {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "x"}}},
        "hardening.W304",
    ),
]


@pytest.mark.parametrize(("changes", "code"), CASES)
def test_each_problem_in_production(changes: dict[str, object], code: str) -> None:
    with production(**changes):
        codes = check_error_codes()
    expected = "WARNING" if code.startswith("hardening.W") else "ERROR"
    assert codes.get(code) == expected, codes


@pytest.mark.parametrize(("changes", "code"), CASES)
def test_each_problem_is_a_warning_in_development(changes: dict[str, object], code: str) -> None:
    with production(HARDENING_ENVIRONMENT="development", **changes):
        codes = check_error_codes()
    assert codes.get(code) == "WARNING", codes


def test_the_example_configuration_is_clean() -> None:
    redis = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/0",
        "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
    }
    with production(CACHES={"default": redis}):
        codes = check_error_codes()
    assert not [c for c in codes if c.startswith(("hardening.E3", "hardening.W3"))], codes


def test_a_cluster_cache_is_clean() -> None:
    with production(CACHES={"default": CLUSTER}):
        codes = check_error_codes()
    assert not {c for c in codes if c[-3:-1] == "06" and c[-1] in "3456789"}, codes


def test_disabled_rate_limits_need_no_middleware() -> None:
    middleware = [m for m in settings.MIDDLEWARE if m != MW]
    with production(MIDDLEWARE=middleware, HARDENING_RATELIMIT_ENABLED=False):
        assert "hardening.E305" not in check_error_codes()


def test_checks_are_bound() -> None:
    bad = production(HARDENING_RATELIMIT_POLICIES=[{"name": "x", "rate": "often"}])
    with bad, pytest.raises(SystemCheckError, match="hardening.E300"):
        call_command("check")


def test_redis_with_timeouts_is_clean() -> None:
    for backend, option in (
        ("django_redis.cache.RedisCache", "SOCKET_TIMEOUT"),
        ("django.core.cache.backends.redis.RedisCache", "socket_timeout"),
    ):
        cache = {"BACKEND": backend, "LOCATION": "redis://127.0.0.1:6379/0", "OPTIONS": {option: 1}}
        with production(CACHES={"default": cache}):
            assert "hardening.W304" not in check_error_codes()
