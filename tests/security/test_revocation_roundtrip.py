"""Issue 12 item 7: the revocation lookup rides in the rate limiter's Redis round trip.

A revoked access token is refused with one Redis command per request in all (the limiter's
EVALSHA), through the real middleware stack, and on every path where the limiter does not
run the direct cache read still refuses it before the view.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.test import Client, override_settings
from django.urls import include, path

from hardening.observability.metrics import REVOCATION_UNCHECKED
from hardening.ratelimit import middleware as rl_middleware
from hardening.ratelimit.decorators import rate_limit
from hardening.ratelimit.limiter import Limiter
from tests.servers import unavailable

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

PASSWORD = "correct horse battery"


def plain(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"authenticated": request.user.is_authenticated})


@rate_limit(exempt=True)
def exempt(request: HttpRequest) -> JsonResponse:
    return plain(request)


urlpatterns = [
    path("api/plain", plain),
    path("api/exempt", exempt),
    path("elsewhere/plain", plain),
    path("", include("example_project.urls")),
]


@pytest.fixture
def redis_default() -> Iterator[str]:
    """The default cache (revocation keys) and the shared cache: one Redis cache."""
    if "redis" not in settings.CACHES:
        unavailable("needs HARDENING_TEST_REDIS_URL")
    prefix = f"hardening-test-rev-{uuid.uuid4().hex[:10]}"
    caches = {"default": {**settings.CACHES["redis"], "KEY_PREFIX": prefix}}
    with override_settings(
        CACHES=caches,
        ROOT_URLCONF=__name__,
        HARDENING_CACHE="default",
        HARDENING_RATELIMIT_ENABLED=True,
        HARDENING_JWT_REVOKE_ACCESS_TOKENS=True,
    ):
        yield prefix
        from django.core.cache import caches as handler

        from hardening.ratelimit.limiter import redis_client

        client = redis_client(handler["default"])
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Redis command sent in this process (one redis-py call is one round trip)."""
    import redis

    seen: list[str] = []
    original = redis.Redis.execute_command

    def counting(self: Any, *args: Any, **options: Any) -> Any:
        seen.append(str(args[0]).upper())
        return original(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", counting)
    return seen


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", password=PASSWORD)


def post(client: Client, url: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def login(client: Client) -> dict[str, str]:
    response = post(client, "/api/auth/token", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200, response.content
    return dict(response.json())


def get(client: Client, url: str, token: str) -> Any:
    return client.get(url, headers={"Authorization": f"Bearer {token}"})


def logout(client: Client, pair: dict[str, str]) -> None:
    response = post(
        client,
        "/api/auth/logout",
        {"refresh": pair["refresh"]},
        Authorization=f"Bearer {pair['access']}",
    )
    assert response.status_code == 204, response.content


@pytest.mark.parametrize("how", ["logout", "family"])
def test_revoked_token_is_refused_in_one_round_trip(
    client: Client, user: Any, redis_default: str, commands: list[str], events: Any, how: str
) -> None:
    pair = login(client)
    for _ in range(2):  # a fresh verification, then a verified-token memo hit
        commands.clear()
        response = get(client, "/api/me", pair["access"])
        assert response.status_code == 200
        assert commands in (["EVALSHA"], ["EVALSHA", "EVAL"])  # EVAL: first load only
    if how == "logout":
        logout(client, pair)
    else:  # a refresh-token replay ends the family (and its access tokens)
        assert (
            post(client, "/api/auth/token/refresh", {"refresh": pair["refresh"]}).status_code == 200
        )
        replay = post(client, "/api/auth/token/refresh", {"refresh": pair["refresh"]})
        assert replay.status_code == 401
    events.clear()
    for _ in range(2):
        commands.clear()
        response = get(client, "/api/me", pair["access"])
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert commands == ["EVALSHA"]
    rejected = [f for e, f in events if e == "token.rejected"]
    assert [f["reason"] for f in rejected] == ["revoked", "revoked"]  # once per request
    commands.clear()
    response = get(client, "/api/plain", pair["access"])
    assert response.json() == {"authenticated": False}
    assert commands == ["EVALSHA"]


def test_revoked_token_is_counted_as_anonymous(
    client: Client, user: Any, redis_default: str
) -> None:
    """A refused token gives no way around the limits: the request counts as anonymous."""
    pair = login(client)
    logout(client, pair)
    rules = [{"name": "anon-once", "key": "anon", "rates": ["2/m"]}]
    with override_settings(HARDENING_RATELIMIT_POLICIES=rules):
        codes = [get(client, "/api/me", pair["access"]).status_code for _ in range(3)]
    assert codes == [401, 401, 429]


def _drf_only(stack: list[str]) -> list[str]:
    return [m for m in stack if "CredentialMiddleware" not in m and "RateLimit" not in m]


def _mfa_first(stack: list[str]) -> list[str]:
    """MFAMiddleware (it reads request.user) between the JWT and rate-limit ones."""
    limiter = next(m for m in stack if "RateLimit" in m)
    rest = [m for m in stack if m != limiter]
    mfa = next(i for i, m in enumerate(rest) if "MFAMiddleware" in m)
    return [*rest[: mfa + 1], limiter, *rest[mfa + 1 :]]


FALLBACKS: dict[str, Any] = {
    "rate limits off": {"settings": {"HARDENING_RATELIMIT_ENABLED": False}},
    "exempt path": {"settings": {"HARDENING_RATELIMIT_EXEMPT_PATHS": ["/api/"]}},
    "exempt view": {"url": "/api/exempt"},
    "no policy applies": {"settings": {"HARDENING_RATELIMIT_POLICIES": []}},
    "non-Redis limiter cache": {"settings": {"HARDENING_CACHE": "other"}},
    "cache error (fails open through the breaker)": {"error": True},
    "breaker open": {"breaker": True},
    "DRF without the middleware": {"middleware": _drf_only},
    "middleware in between": {"middleware": _mfa_first},
}


@pytest.mark.parametrize("case", list(FALLBACKS))
def test_every_fallback_still_refuses_a_revoked_token(
    client: Client,
    user: Any,
    redis_default: str,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
) -> None:
    spec = FALLBACKS[case]
    url = spec.get("url", "/api/me")
    overrides: dict[str, Any] = dict(spec.get("settings", {}))
    if "middleware" in spec:
        overrides["MIDDLEWARE"] = spec["middleware"](list(settings.MIDDLEWARE))
    if overrides.get("HARDENING_CACHE") == "other":
        overrides["CACHES"] = {
            **settings.CACHES,
            "other": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        }
    pair = login(client)
    fail_open = [{"name": "user", "key": "user", "rates": ["100/m"], "fail_open": True}]
    if spec.get("error"):

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("redis down")

        monkeypatch.setattr(Limiter, "decide", broken)
        overrides["HARDENING_RATELIMIT_POLICIES"] = fail_open
    if spec.get("breaker"):
        breaker = type("Open", (), {"allow": lambda self: False})()
        monkeypatch.setattr(rl_middleware, "for_cache", lambda alias: breaker)
        overrides["HARDENING_RATELIMIT_POLICIES"] = fail_open
    with override_settings(**overrides):
        before = get(client, url, pair["access"])
        assert before.status_code == 200
        logout(client, pair)
        unchecked = REVOCATION_UNCHECKED._value.get()
        after = get(client, url, pair["access"])
    if spec.get("error"):
        # The limiter's connection error opened the cache's circuit breaker: the revocation
        # read (same Redis) is skipped too and fails open, counted (docs/jwt.md).
        assert after.status_code == 200
        assert REVOCATION_UNCHECKED._value.get() == unchecked + 1
        return
    if url == "/api/exempt":
        assert after.json() == {"authenticated": False}
    else:
        assert after.status_code == 401


@pytest.mark.django_db(transaction=True)
async def test_async_stack_refuses_a_revoked_token_in_one_round_trip(
    user: Any, redis_default: str, commands: list[str]
) -> None:
    from asgiref.sync import sync_to_async
    from django.db import connections
    from django.test import AsyncClient

    try:
        pair = await sync_to_async(login)(Client())
        aclient = AsyncClient()
        headers = {"Authorization": f"Bearer {pair['access']}"}
        assert (await aclient.get("/api/me", headers=headers)).status_code == 200
        await sync_to_async(logout)(Client(), pair)
        commands.clear()
        response = await aclient.get("/api/me", headers=headers)
        assert response.status_code == 401
        assert commands == ["EVALSHA"]
        plain_view = await aclient.get("/api/plain", headers=headers)
        assert plain_view.json() == {"authenticated": False}
    finally:  # the executor thread's persistent connection (CONN_MAX_AGE)
        await sync_to_async(connections.close_all)()
