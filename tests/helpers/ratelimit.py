"""Rate-limit helpers: the middleware driven by RequestFactory (time: the fake clock of
``tests/helpers/clock.py``), requests, users and addresses, and Redis clean-up; for the
end-to-end tests on real servers, a session of a new user (``session_cookie``) and ``burst``
(``n`` requests in flight at once)."""

from __future__ import annotations

import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from hardening.ratelimit.middleware import RateLimitMiddleware
from tests.servers import ROOT, Reply, Server, run_until_exit


class User:
    is_authenticated = True

    def __init__(self, pk: str | None = None) -> None:
        self.pk = pk or uuid.uuid4().hex[:12]


def ok_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def make() -> RateLimitMiddleware:
    """The middleware (under the ``clock`` fixture, Redis counts on the fake clock too)."""
    return RateLimitMiddleware(ok_view)


def request(
    path: str = "/api/me",
    *,
    user: Any = None,
    ip: str = "192.0.2.10",
    method: str = "GET",
    **meta: str,
) -> HttpRequest:
    req = getattr(RequestFactory(), method.lower())(path, REMOTE_ADDR=ip, **meta)
    req.user = user or AnonymousUser()
    return req


def policies(*items: dict[str, Any]) -> list[dict[str, Any]]:
    return list(items)


def unique_ip() -> str:
    raw = uuid.uuid4().int
    return f"10.{raw % 250}.{(raw >> 8) % 250}.{(raw >> 16) % 250 + 1}"


def delete_prefix(url: str, prefix: str) -> None:
    """Delete the keys under ``prefix`` (an end-to-end server's own KEY_PREFIX)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


MANAGE = [sys.executable, str(ROOT / "example_project" / "manage.py")]

SESSION_SCRIPT = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
user = get_user_model().objects.create_user("ratelimit-e2e", password="not-used-0123")
s = SessionStore()
s[SESSION_KEY] = str(user.pk)
s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
s[HASH_SESSION_KEY] = user.get_session_auth_hash()
s.create()
print("SESSION=" + s.session_key)
"""


def session_cookie(env: dict[str, str]) -> str:
    """A logged-in user's session key in the example project's database of ``env``
    (migrated first), made by ``manage.py shell``."""
    migrate = run_until_exit([*MANAGE, "migrate", "--noinput"], env=env, timeout=120)
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    shell = run_until_exit([*MANAGE, "shell", "-c", SESSION_SCRIPT], env=env, timeout=60)
    assert shell.returncode == 0, shell.stderr[-2000:]
    return shell.stdout.split("SESSION=")[1].split()[0]


def burst(server: Server, n: int, headers: dict[str, str]) -> Counter[int]:
    """``n`` requests in flight at once: one thread each, released together by a barrier
    (the server's listen backlog queues what its workers cannot take yet)."""
    start = threading.Barrier(n, timeout=60)

    def one(_: int) -> int:
        start.wait()
        try:
            return server.get("/api/me", headers=headers, timeout=30).status
        except OSError:
            return -1

    with ThreadPoolExecutor(max_workers=n) as pool:
        return Counter(pool.map(one, range(n)))


#: A token request: answered by the auth limit, which fails closed in a cache outage.
AUTH_POST: dict[str, Any] = {
    "method": "POST",
    "data": b"{}",
    "headers": {"Content-Type": "application/json"},
}
#: Limits the few requests of an outage test never reach.
OUTAGE_LIMITS = {"RATE_LIMIT_IP": "1000/m", "RATE_LIMIT_AUTH": "1000/m"}


def through_outage(
    server: Server, fail: Callable[[], object]
) -> tuple[int, list[int], list[Reply]]:
    """``GET /api/me`` and a token POST, then ``fail()`` (the cache goes away), then ten of
    each: the general status before, the general statuses and the auth replies after."""
    before_general = server.get("/api/me").status
    before_auth = server.request("/api/auth/token", **AUTH_POST).status
    assert before_general in (401, 403)
    assert before_auth not in (429, 500, 503)
    fail()
    general = [server.get("/api/me").status for _ in range(10)]
    replies = [server.request("/api/auth/token", **AUTH_POST) for _ in range(10)]
    return before_general, general, replies
