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


@pytest.fixture
def answering() -> Iterator[str]:
    """A local HTTP server that answers 200 at once."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Ok(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def test_a_deadline_of_centuries_gives_a_usable_timeout(answering: str) -> None:
    """The settings accept any finite budget; a socket timeout past threading.TIMEOUT_MAX
    raises OverflowError, so a call without a timeout of its own must still work."""
    with deadline_scope(1e10):
        left = budget(None)
        assert left is not None and left > 1e9
        assert deadline_session().get(answering).status_code == 200
        with httpx.Client(transport=DeadlineTransport(), timeout=None) as client:  # noqa: S113
            assert client.get(answering).status_code == 200
