"""Bans across a Redis restart (docs/ratelimit.md, docs/deployment.md): a private
redis-server is stopped with SIGTERM and started again on the same directory.  With the
documented AOF (``appendonly yes``, ``appendfsync everysec``) the ban is still there; without
persistence it is gone."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import override_settings

from hardening.breaker import for_cache
from tests.helpers.ratelimit import User, make, request
from tests.helpers.services import RedisServer, disposable, redis_server

ALIAS = "restartable"


@pytest.fixture(params=[True, False], ids=["aof", "no-persistence"])
def redis(request: pytest.FixtureRequest) -> Iterator[RedisServer]:
    yield from disposable(redis_server(persistent=request.param), "redis-server", "redis-server")


def limiter_settings(redis: RedisServer) -> override_settings:
    cache = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": redis.url,
        "OPTIONS": {"SOCKET_TIMEOUT": 0.5, "SOCKET_CONNECT_TIMEOUT": 0.5},
    }
    return override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
                ALIAS: cache},
        HARDENING_CACHE=ALIAS,
        HARDENING_RATELIMIT_POLICIES=[{"name": "test", "key": "user", "rates": ["1/m"]}],
        HARDENING_RATELIMIT_BANS={"threshold": 3, "tiers": [600]},
        HARDENING_RATELIMIT_HEADERS=True,
    )  # fmt: skip


def answered_by_redis(mw: Any, user: User, timeout: float = 10) -> Any:
    """The first answer decided by Redis after the restart, not by the fail-open policy
    while the limiter's old connection fails and its breaker is open (bounded poll)."""
    deadline = time.monotonic() + timeout
    while True:
        response = mw(request(user=user))
        decided = response.status_code == 429 or "RateLimit" in response
        if decided and for_cache(ALIAS).state == "closed":
            return response
        assert time.monotonic() < deadline, "the limiter did not use Redis again"
        time.sleep(0.05)


def test_a_ban_survives_a_restart_only_with_persistence(redis: RedisServer) -> None:
    user = User()
    with limiter_settings(redis):
        mw = make()
        codes = [mw(request(user=user)).status_code for _ in range(4)]
        assert codes == [200, 429, 429, 429]
        banned = mw(request(user=user))
        assert json.loads(banned.content)["error"] == "banned"
        started = time.monotonic()
        redis.restart()  # SIGTERM, then redis-server again on the same port and directory
        after = answered_by_redis(mw, user)
        took = time.monotonic() - started
    if redis.persistent:
        assert after.status_code == 429, after.content
        assert json.loads(after.content)["error"] == "banned"
        assert 500 < int(after["Retry-After"]) <= 600  # the same ban, its TTL kept
    else:
        assert after.status_code == 200  # forgotten: a new window, no ban
    kind = "aof everysec" if redis.persistent else "no persistence"
    print(f"MEASURED redis restart ({kind}): ban {'kept' if redis.persistent else 'lost'}; "
          f"limiter on Redis again {took:.2f} s after SIGTERM")  # fmt: skip
