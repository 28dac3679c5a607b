"""Outgoing HTTP through the documented helpers gets the time left as its timeout."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
import requests

from hardening.timeout import (
    AsyncDeadlineTransport,
    DeadlineAdapter,
    DeadlineExceeded,
    DeadlineTransport,
    budget,
    deadline_scope,
    deadline_session,
    httpx_deadline_hook,
)
from tests.timeout.upstream import SilentServer, silent_upstream

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def upstream() -> Iterator[SilentServer]:
    with silent_upstream() as server:
        yield server


def test_budget_outside_and_inside_a_deadline() -> None:
    assert budget(5) == 5
    assert budget(None) is None
    with deadline_scope(2):
        left = budget(5)
        assert left is not None and 1.5 < left <= 2
        assert budget(0.5) == 0.5
    with deadline_scope(0.01), pytest.raises(DeadlineExceeded):
        time.sleep(0.02)
        budget(5)


def test_requests_session_waits_only_the_time_left(upstream: SilentServer) -> None:
    session = deadline_session()
    assert isinstance(session.get_adapter("http://x"), DeadlineAdapter)
    started = time.monotonic()
    with deadline_scope(0.3), pytest.raises(requests.exceptions.ReadTimeout):
        session.get(upstream.url, timeout=5)
    assert time.monotonic() - started < 1.0
    with deadline_scope(0.3), pytest.raises(requests.exceptions.ReadTimeout):
        session.get(upstream.url, timeout=(5, 5))
    assert time.monotonic() - started < 2.0


def test_requests_after_the_deadline_is_refused(upstream: SilentServer) -> None:
    with deadline_scope(0.01), pytest.raises(DeadlineExceeded):
        time.sleep(0.02)
        deadline_session().get(upstream.url, timeout=5)


def test_httpx_transport_and_hook_wait_only_the_time_left(upstream: SilentServer) -> None:
    with httpx.Client(transport=DeadlineTransport(), timeout=5) as client:
        started = time.monotonic()
        with deadline_scope(0.3), pytest.raises(httpx.ReadTimeout):
            client.get(upstream.url)
        assert time.monotonic() - started < 1.0
    with httpx.Client(event_hooks={"request": [httpx_deadline_hook]}, timeout=5) as client:
        started = time.monotonic()
        with deadline_scope(0.3), pytest.raises(httpx.ReadTimeout):
            client.get(upstream.url)
        assert time.monotonic() - started < 1.0


async def test_async_httpx_transport(upstream: SilentServer) -> None:
    async with httpx.AsyncClient(transport=AsyncDeadlineTransport(), timeout=5) as client:
        started = time.monotonic()
        with deadline_scope(0.3), pytest.raises(httpx.ReadTimeout):
            await client.get(upstream.url)
        assert time.monotonic() - started < 1.0
