from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings

from hardening.timeout import DeadlineExceeded, check_deadline, deadline_scope, remaining
from hardening.timeout.conf import budget_for_path, parse_seconds
from hardening.timeout.deadline import current_deadline
from tests.helpers.clock import FakeClock


def test_no_deadline_outside_a_request() -> None:
    assert remaining() is None
    assert current_deadline() is None
    check_deadline()  # no-op


def test_deadline_scope_counts_down_and_raises() -> None:
    with deadline_scope(0.05) as deadline:
        left = remaining()
        assert left is not None
        assert 0 < left <= 0.05
        check_deadline()
        stop = time.monotonic() + 2
        while not deadline.expired() and time.monotonic() < stop:
            time.sleep(0.005)
        assert remaining() == 0.0
        with pytest.raises(DeadlineExceeded):
            check_deadline()
        assert deadline.exceeded == "deadline"
    assert remaining() is None


async def test_deadline_follows_into_threads_and_tasks() -> None:
    with deadline_scope(5):
        in_thread = await sync_to_async(remaining)()
        in_task = await asyncio.ensure_future(asyncio.sleep(0, result=remaining()))
    assert in_thread is not None and 0 < in_thread <= 5
    assert in_task is not None and 0 < in_task <= 5


@pytest.mark.parametrize(
    ("value", "expected"), [(30, 30.0), ("2.5", 2.5), (0, None), (None, None), ("0", None)]
)
def test_parse_seconds(value: object, expected: float | None) -> None:
    assert parse_seconds(value) == expected


@override_settings(
    HARDENING_REQUEST_TIMEOUT=30,
    HARDENING_REQUEST_TIMEOUT_ROUTES={
        "/health/": None,
        "/metrics": None,
        "/api/": 10,
        "/api/upload/": 300,
        "/api/stream/": None,
    },
)
def test_budget_for_path() -> None:
    assert budget_for_path("/health/ready") is None
    assert budget_for_path("/metrics") is None
    assert budget_for_path("/api/me") == 10
    assert budget_for_path("/api/upload/big") == 300
    assert budget_for_path("/api/stream/x") is None
    assert budget_for_path("/admin/") == 30


def test_default_budget_and_exemptions() -> None:
    from django.conf import settings

    assert settings.HARDENING_REQUEST_TIMEOUT == 30.0  # example project default
    assert budget_for_path("/health/live") is None
    assert budget_for_path("/metrics") is None


@override_settings(HARDENING_REQUEST_TIMEOUT_ROUTES={"/health/": None, "/health/slow/": 5})
def test_the_longest_prefix_wins_over_an_exemption() -> None:
    assert budget_for_path("/health/live") is None
    assert budget_for_path("/health/slow/x") == 5


@override_settings(HARDENING_REQUEST_TIMEOUT_ROUTES={"/api/": 10})
def test_routes_replace_the_default_exemptions() -> None:
    # The default of HARDENING_REQUEST_TIMEOUT_ROUTES is what exempts /health/ and /metrics.
    assert budget_for_path("/health/live") == 30
    assert budget_for_path("/api/me") == 10


@pytest.mark.parametrize(
    "changes",
    [
        {"HARDENING_REQUEST_TIMEOUT": "soon"},
        {"HARDENING_REQUEST_TIMEOUT_ROUTES": {"/api/": "long"}},
        {"HARDENING_REQUEST_TIMEOUT_ROUTES": ["/api/"]},
    ],
)
def test_an_unusable_value_falls_back_to_its_default(changes: dict[str, object]) -> None:
    with override_settings(**changes):  # reported by hardening.E401 / E402, never raised
        assert budget_for_path("/api/me") == 30
        assert budget_for_path("/health/live") is None


def test_the_deadline_reads_the_clock_seam(clock: FakeClock) -> None:
    with deadline_scope(5) as deadline:
        assert remaining() == 5
        clock.advance(4.5)
        assert remaining() == 0.5
        assert deadline.elapsed() == 4.5
        check_deadline()
        clock.advance(0.5)
        assert deadline.expired() and deadline.overdue() == 0
        with pytest.raises(DeadlineExceeded):
            check_deadline()
