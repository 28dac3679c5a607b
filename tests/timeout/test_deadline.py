from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings

from hardening.timeout import (
    DeadlineExceeded,
    check_deadline,
    current_deadline,
    deadline_scope,
    remaining,
)
from hardening.timeout.config import budget_for_path, parse_seconds


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
    assert parse_seconds(value, "X") == expected


@override_settings(
    HARDENING_REQUEST_TIMEOUT=30,
    HARDENING_REQUEST_TIMEOUT_EXEMPT=["/health/", "/metrics"],
    HARDENING_REQUEST_TIMEOUT_ROUTES={"/api/": 10, "/api/upload/": 300, "/api/stream/": None},
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
