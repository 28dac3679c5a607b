"""End to end: real gunicorn workers sharing Redis counters, and Redis dying mid-test."""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests.helpers.ratelimit import (
    OUTAGE_LIMITS,
    burst,
    delete_prefix,
    session_cookie,
    through_outage,
)
from tests.helpers.services import RedisServer
from tests.servers import serve

pytestmark = [pytest.mark.server]


@pytest.mark.redis
def test_500_concurrent_requests_against_50_per_minute_across_4_workers(
    tmp_path: Path,
) -> None:
    url = os.environ["HARDENING_TEST_REDIS_URL"]
    prefix = f"rl-e2e-{uuid.uuid4().hex}"
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": f"{url}?key_prefix={prefix}",
        "RATE_LIMIT_USER": "50/m",
        "RATE_LIMIT_IP": "100000/m",
        "RATE_LIMIT_GLOBAL": "100000/m",
    }
    cookie = {"Cookie": f"sessionid={session_cookie(env)}"}
    try:
        with serve("gunicorn", workers=4, env=env, tmp_path=tmp_path) as server:
            statuses = burst(server, 500, cookie)
            log = server.output()
    finally:
        delete_prefix(url, prefix)
    assert statuses[200] == 50, (statuses, log[-3000:])
    assert statuses[429] == 450, statuses
    assert "Traceback" not in log


@pytest.mark.redis
def test_a_client_over_4_workers_at_90_percent_of_its_limit_is_never_refused(
    tmp_path: Path,
) -> None:
    """Leases on real workers: 60 per 10 s, one client at 90 % (54 per 10 s, never faster:
    a late request does not make the next one earlier) for 15 s over 4 gunicorn workers."""
    url = os.environ["HARDENING_TEST_REDIS_URL"]
    prefix = f"rl-e2e-{uuid.uuid4().hex}"
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": f"{url}?key_prefix={prefix}",
        "RATE_LIMIT_USER": "60/10s",
        "RATE_LIMIT_IP": "100000/m",
        "RATE_LIMIT_GLOBAL": "100000/m",
    }
    cookie = {"Cookie": f"sessionid={session_cookie(env)}"}
    spacing = 10 / 54
    statuses: Counter[int] = Counter()
    try:
        with serve("gunicorn", workers=4, env=env, tmp_path=tmp_path) as server:
            started = time.monotonic()
            due = started
            while time.monotonic() - started < 15:
                time.sleep(max(0.0, due - time.monotonic()))
                sent = time.monotonic()
                statuses[server.get("/api/me", headers=cookie, timeout=30).status] += 1
                due = sent + spacing
            log = server.output()
    finally:
        delete_prefix(url, prefix)
    assert set(statuses) == {200}, (statuses, log[-3000:])
    assert statuses[200] >= 20


def test_redis_stopped_mid_test_fails_open_for_general_and_closed_for_auth(
    tmp_path: Path, redis: RedisServer
) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "CACHE_URL": redis.url}
    with serve("gunicorn", workers=2, env={**env, **OUTAGE_LIMITS}, tmp_path=tmp_path) as server:
        # Redis dies while the server runs
        before_general, general, replies = through_outage(server, redis.stop)
        log = server.output()
    assert general == [before_general] * 10, log[-3000:]  # fail open
    assert [r.status for r in replies] == [503] * 10, log[-3000:]  # fail closed
    assert all(r.headers.get("retry-after") == "5" for r in replies)
    assert "ratelimit.cache_error" in log


def test_asgi_stack_under_uvicorn(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "RATE_LIMIT_IP": "5/m",
        "RATE_LIMIT_HEADERS": "true",
    }
    with serve("uvicorn", env=env, tmp_path=tmp_path, ready_path="/health/live") as server:
        # Without Redis the limiter keeps django-ratelimit's fixed windows: 11 requests, so
        # that a window ending during the burst (counts start again) still shows a 429.
        replies = [server.get("/api/me") for _ in range(11)]
        log = server.output()
    assert [r.status for r in replies[:5]] == [replies[0].status] * 5, log[-3000:]
    assert replies[0].status in (401, 403)
    limited = [r for r in replies[5:] if r.status == 429]
    assert limited, [r.status for r in replies]
    assert limited[0].headers["retry-after"].isdigit()
    assert replies[0].headers["ratelimit-policy"].startswith('"ip";q=5;w=60')
