"""Replay protection under real concurrency: PostgreSQL, one connection per thread."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from django.db import connection
from django.test import Client

from hardening.mfa import recovery
from hardening.mfa.devices import verify_totp
from hardening.mfa.login import mfa_challenge
from hardening.mfa.models import TOTPDevice
from tests.helpers.clock import FakeClock
from tests.helpers.mfa import code_now, make_device

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 16
T = TypeVar("T")


def race(work: Callable[[int], T], n: int = THREADS) -> list[T]:
    """Run ``work(i)`` in ``n`` threads released together; each has its own connection."""
    barrier = threading.Barrier(n)

    def run(i: int) -> T:
        try:
            barrier.wait(timeout=30)
            return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def test_is_postgres() -> None:
    assert connection.vendor == "postgresql"


def test_one_code_concurrently_succeeds_exactly_once(user: Any, clock: FakeClock) -> None:
    device = make_device(user)
    code = code_now(clock)
    devices = TOTPDevice.objects.filter(pk=device.pk, confirmed=True)
    reasons = race(lambda i: verify_totp(devices, code).reason)
    assert Counter(reasons) == {"ok": 1, "replay": THREADS - 1}
    device.refresh_from_db()
    assert device.last_t == int(clock.t // 30) and device.failure_count == 0


def test_concurrent_wrong_guesses_are_serialised_by_the_backoff(
    user: Any, clock: FakeClock
) -> None:
    make_device(user)
    devices = TOTPDevice.objects.filter(user=user, confirmed=True)
    good = code_now(clock)
    guesses = [f"{(int(good) + 1 + i) % 1_000_000:06d}" for i in range(THREADS)]
    reasons = race(lambda i: verify_totp(devices, guesses[i]).reason)
    # Only one guess is checked; the back-off it set refuses the rest unchecked.
    assert Counter(reasons) == {"invalid": 1, "throttled": THREADS - 1}


def test_recovery_code_concurrently_spent_once(user: Any) -> None:
    code = recovery.generate(user)[0]
    results = race(lambda i: recovery.use(user, code))
    assert results.count(True) == 1
    assert recovery.remaining(user) == 9


def test_login_step_concurrently_issues_one_token_pair(user: Any, clock: FakeClock) -> None:
    make_device(user)
    tokens = [mfa_challenge(None, user)["mfa_token"] for _ in range(5)]  # type: ignore[arg-type,index]
    code = code_now(clock)

    def attempt(i: int) -> int:
        body = json.dumps({"mfa_token": tokens[i % len(tokens)], "code": code})
        return Client().post("/api/auth/mfa", body, content_type="application/json").status_code

    statuses = race(attempt, n=10)
    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 401}


def test_one_passkey_assertion_concurrently_succeeds_exactly_once(user: Any) -> None:
    """The challenge row is deleted once and the counter spent by one conditional UPDATE."""
    from django.test import RequestFactory

    from hardening.mfa import passkeys
    from tests.helpers.webauthn import SoftAuthenticator

    request = RequestFactory().post("/", HTTP_HOST="testserver")
    key = SoftAuthenticator()
    options = passkeys.registration_options(request, user, "b")
    row = passkeys.register(request, user, "b", key.create(options), "laptop")
    assertion = key.get(passkeys.authentication_options(request, "mfa", "b", user))

    def attempt(i: int) -> str:
        try:
            passkeys.authenticate(request, "mfa", "b", assertion, row)
        except passkeys.PasskeyError as exc:
            return exc.reason
        return "ok"

    assert Counter(race(attempt)) == {"ok": 1, "challenge": THREADS - 1}
