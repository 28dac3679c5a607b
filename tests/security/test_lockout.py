"""Issue 12 item 6: failures are counted per account, whatever the source address."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client, override_settings

from hardening.mfa import checks, devices, lockout
from hardening.mfa.conf import conf
from hardening.mfa.models import TOTPDevice
from tests.helpers.clock import FakeClock
from tests.helpers.mfa import PASSWORD, code_now, make_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", password=PASSWORD, is_staff=True)


def token_login(client: Client, username: str, password: str, ip: str) -> Any:
    body = json.dumps({"username": username, "password": password})
    return client.post("/api/auth/token", body, content_type="application/json", REMOTE_ADDR=ip)


def addresses(n: int) -> list[str]:
    return [f"198.51.{i // 250}.{i % 250 + 1}" for i in range(n)]


def test_sixty_addresses_cannot_guess_one_password(
    alice: Any, client: Client, clock: FakeClock
) -> None:
    answers = [token_login(client, " ALICE ", "wrong", ip).status_code for ip in addresses(60)]
    assert answers[:5] == [401] * 5
    assert set(answers[5:]) == {429}
    locked = token_login(client, "alice", PASSWORD, "203.0.113.9")
    assert locked.status_code == 429 and locked.json()["error"] == "account_locked"
    retry = int(locked["Retry-After"])
    assert 0 < retry <= lockout.MAX_LOCK_SECONDS
    clock.advance(retry - 2)
    assert token_login(client, "alice", PASSWORD, "203.0.113.9").status_code == 429
    clock.advance(3)
    assert token_login(client, "alice", PASSWORD, "203.0.113.9").status_code == 200


def test_unknown_usernames_answer_the_same(alice: Any, client: Client, clock: FakeClock) -> None:
    real = [token_login(client, "alice", "x", ip).status_code for ip in addresses(7)]
    ghost = [token_login(client, "nobody", "x", ip).status_code for ip in addresses(7)]
    assert real == ghost == [401] * 5 + [429] * 2


def test_admin_login_is_locked_per_account(alice: Any, client: Client, clock: FakeClock) -> None:
    def admin(password: str, ip: str) -> Any:
        data = {"username": "alice", "password": password}
        return client.post("/admin/login/?next=/admin/", data, REMOTE_ADDR=ip)

    answers = [admin("wrong", ip).status_code for ip in addresses(7)]
    assert answers == [200] * 5 + [429] * 2  # 200: the login form with its error
    locked = admin(PASSWORD, "203.0.113.9")
    assert locked.status_code == 429 and int(locked["Retry-After"]) <= 900
    clock.advance(lockout.MAX_LOCK_SECONDS + 1)
    assert admin(PASSWORD, "203.0.113.9").status_code == 302


def test_lock_is_bounded_even_when_attempts_continue(
    alice: Any, client: Client, clock: FakeClock
) -> None:
    with override_settings(HARDENING_LOCKOUT="5/d"):  # a day's window: the lock is still bounded
        for ip in addresses(6):
            token_login(client, "alice", "wrong", ip)
        for _ in range(20):  # hammering while locked does not extend the lock
            clock.advance(30)
            assert token_login(client, "alice", "wrong", "203.0.113.1").status_code == 429
        clock.advance(lockout.MAX_LOCK_SECONDS - 600 + 1)
        assert token_login(client, "alice", PASSWORD, "203.0.113.9").status_code == 200


@pytest.mark.parametrize("path", ["/admin/login/?next=/admin/", "/account/login/"])
def test_attempts_refused_by_the_lock_are_not_counted(
    alice: Any, client: Client, clock: FakeClock, path: str
) -> None:
    """Session logins: ``LockoutBackend`` refuses a locked account with PermissionDenied,
    and Django then sends ``user_login_failed``.  Those refusals used to be counted, so one
    wrong password after the lock re-locked the account at once."""

    def login(password: str, ip: str) -> Any:
        return client.post(path, {"username": "alice", "password": password}, REMOTE_ADDR=ip)

    ips = iter(addresses(40))
    assert {login("wrong", next(ips)).status_code for _ in range(5)} <= {200, 401}
    left = lockout.blocked_for("alice")
    assert left > 0
    for _ in range(20):  # hammering during the lock, spread over all of it
        clock.advance((left - 1) / 20)
        assert login("wrong", next(ips)).status_code == 429
    clock.advance(lockout.blocked_for("alice") + 1)
    assert lockout.blocked_for("alice") == 0
    assert login("wrong", next(ips)).status_code in (200, 401)  # the form with its error
    assert lockout.blocked_for("alice") == 0  # one failure, not a new lock
    assert login(PASSWORD, next(ips)).status_code == 302


def test_mfa_step_is_locked_per_account(alice: Any, client: Client, clock: FakeClock) -> None:
    make_device(alice)
    for ip in addresses(5):
        challenge = token_login(client, "alice", PASSWORD, ip).json()
        clock.next_step()  # a fresh step: no device back-off involved
        TOTPDevice.objects.update(throttled_until=None)
        body = json.dumps({"mfa_token": challenge["mfa_token"], "code": "000000"})
        client.post("/api/auth/mfa", body, content_type="application/json", REMOTE_ADDR=ip)
    refused = token_login(client, "alice", PASSWORD, "203.0.113.9")
    assert refused.status_code == 429 and "Retry-After" in refused


def test_cache_errors_fail_closed(monkeypatch: pytest.MonkeyPatch, alice: Any) -> None:
    cache = caches["default"]

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("redis down")

    monkeypatch.setattr(cache, "get", broken)
    assert lockout.blocked_for("alice") > 0


def test_device_backoff_is_capped_and_reset_by_a_recovery_code(
    alice: Any, clock: FakeClock
) -> None:
    from django.test import RequestFactory

    from hardening.mfa import recovery
    from hardening.mfa.attempts import verify_code

    device = make_device(alice)
    assert devices._backoff(40) == devices.MAX_BACKOFF_SECONDS == 900
    TOTPDevice.objects.filter(pk=device.pk).update(failure_count=40, throttled_until=clock.t + 900)
    (code, *_rest) = recovery.generate(alice)
    request = RequestFactory().post("/api/auth/mfa", REMOTE_ADDR="203.0.113.5")
    assert verify_code(request, alice, code)[0] == "ok"
    device.refresh_from_db()
    assert device.failure_count == 0 and device.throttled_until is None
    assert verify_code(request, alice, code_now(clock))[0] == "ok"


def test_wiring_checks(settings: Any) -> None:
    assert checks.check_lockout_wiring() == []
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != lockout.MIDDLEWARE]
    ids = {m.id for m in checks.check_lockout_wiring()}
    assert ids == {"hardening.E113", "hardening.E114"}
    settings.HARDENING_LOCKOUT = None
    assert checks.check_lockout_wiring() == []


@pytest.mark.redis
def test_counters_are_shared_through_redis(alice: Any, client: Client, clock: FakeClock) -> None:
    with override_settings(HARDENING_CACHE="redis"):
        answers = [token_login(client, "alice", "x", ip).status_code for ip in addresses(6)]
        assert answers == [401] * 5 + [429]
        assert lockout.blocked_for("  Alice") > 0  # the same account, normalised
        caches["redis"].delete_many(list(lockout._keys("alice", 300)))


def test_unreachable_cache_refuses_logins() -> None:
    broken = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
    }
    local = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    with override_settings(CACHES={"default": local, "broken": broken}, HARDENING_CACHE="broken"):
        rate = conf.HARDENING_LOCKOUT
        assert rate is not None
        assert lockout.blocked_for("alice") == lockout.lock_seconds(rate) == 300 > 0
        lockout.record_failure("alice")  # logged, never raised


def test_middleware_answers_429_sync_and_async() -> None:
    import asyncio

    from django.http import HttpResponse
    from django.test import RequestFactory

    from hardening.request import state

    def view(request: Any) -> HttpResponse:
        state(request).lockout_wait = 42  # what LockoutBackend leaves for a locked account
        return HttpResponse("form with an error")

    async def async_view(request: Any) -> HttpResponse:
        return view(request)

    sync = lockout.LockoutMiddleware(view)(RequestFactory().post("/admin/login/"))
    assert sync.status_code == 429 and sync["Retry-After"] == "42"
    middleware = lockout.LockoutMiddleware(async_view)
    response = asyncio.run(middleware(RequestFactory().post("/admin/login/")))
    assert response.status_code == 429 and response["Retry-After"] == "42"
    untouched = lockout.LockoutMiddleware(lambda r: HttpResponse("ok"))(RequestFactory().get("/"))
    assert untouched.status_code == 200
