"""Issue 14 item 7: under ASGI the sync stack below TimeoutMiddleware runs in one thread
hop (hardening.timeout.island), and hardening.asgi reuses threads between requests."""

from __future__ import annotations

import asyncio
import threading

import pytest
from django.test import AsyncClient, override_settings

from hardening.asgi import get_asgi_application
from hardening.timeout.runner import PooledASGIHandler
from tests.timeout import island_urls

pytestmark = pytest.mark.timeout(60)

STACK = [
    "hardening.middleware.TimeoutMiddleware",
    "tests.timeout.island_urls.RecordingMiddleware",
    "tests.timeout.island_urls.RecordingMiddleware",
]


@override_settings(ROOT_URLCONF="tests.timeout.island_urls", MIDDLEWARE=STACK)
async def test_sync_view_and_its_middleware_share_one_worker_thread() -> None:
    island_urls.SEEN.clear()
    response = await AsyncClient().get("/sync")
    assert response.status_code == 200
    threads = {ident for _, ident in island_urls.SEEN}
    assert [step for step, _ in island_urls.SEEN] == [
        "request",
        "request",
        "view",
        "response",
        "response",
    ]
    assert len(threads) == 1
    assert threading.get_ident() not in threads  # not on the event loop


@override_settings(ROOT_URLCONF="tests.timeout.island_urls", MIDDLEWARE=STACK)
async def test_async_view_keeps_the_async_chain() -> None:
    island_urls.SEEN.clear()
    response = await AsyncClient().get("/async")
    assert response.status_code == 200
    view_thread = dict(island_urls.SEEN)["view"]
    assert view_thread == threading.get_ident()  # ran on the event loop


@override_settings(
    ROOT_URLCONF="tests.timeout.island_urls",
    MIDDLEWARE=["tests.timeout.island_urls.RecordingMiddleware", *STACK],
)
async def test_outer_middleware_runs_on_a_reused_thread() -> None:
    handler = PooledASGIHandler()
    idents = []
    for _ in range(3):
        island_urls.SEEN.clear()
        sent: list[dict[str, object]] = []

        messages = [{"type": "http.request", "body": b"", "more_body": False}]

        async def receive(messages: list[dict[str, object]] = messages) -> dict[str, object]:
            if messages:
                return messages.pop()
            await asyncio.Event().wait()  # no disconnect; Django cancels this
            raise AssertionError("unreachable")

        async def send(message: dict[str, object], sent: list[dict[str, object]] = sent) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "GET",
            "path": "/sync",
            "query_string": b"",
            "headers": [(b"host", b"testserver")],
            "server": ("testserver", 80),
            "client": ("127.0.0.1", 1),
            "scheme": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "root_path": "",
        }
        await handler(scope, receive, send)
        assert sent[0]["status"] == 200
        idents.append(island_urls.SEEN[0][1])  # the outer middleware's request step
    assert len(set(idents)) < 3  # the pooled thread was reused


async def _get(handler: PooledASGIHandler, path: str) -> list[dict[str, object]]:
    sent: list[dict[str, object]] = []
    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, object]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # no disconnect; Django cancels this
        raise AssertionError("unreachable")

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "GET", "path": path, "query_string": b"",
        "headers": [(b"host", b"testserver")], "server": ("testserver", 80),
        "client": ("127.0.0.1", 1), "scheme": "http", "asgi": {"version": "3.0"},
        "http_version": "1.1", "root_path": "",
    }  # fmt: skip
    await handler(scope, receive, send)
    return sent


@override_settings(
    ROOT_URLCONF="tests.timeout.island_urls",
    MIDDLEWARE=[
        "django_prometheus.middleware.PrometheusBeforeMiddleware",
        "django.middleware.security.SecurityMiddleware",
        *STACK,
        "django_prometheus.middleware.PrometheusAfterMiddleware",
    ],
    SECURE_CONTENT_TYPE_NOSNIFF=True,
)
async def test_hook_only_middleware_outside_the_island_takes_no_thread_hop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """django-prometheus's and Django's SecurityMiddleware hooks do no I/O: under
    hardening.asgi they run on the event loop instead of two thread hops each (what was
    left of uvicorn's gap to gthread, bench/asgi_bench.py)."""
    from django.middleware.security import SecurityMiddleware
    from django_prometheus.middleware import PrometheusBeforeMiddleware

    seen: dict[str, int] = {}

    def recording(cls: type, hook: str) -> None:
        original = getattr(cls, hook)

        def record(self: object, *args: object) -> object:
            seen[f"{cls.__name__}.{hook}"] = threading.get_ident()
            return original(self, *args)

        monkeypatch.setattr(cls, hook, record)

    for cls in (SecurityMiddleware, PrometheusBeforeMiddleware):
        recording(cls, "process_request")
        recording(cls, "process_response")
    sent = await _get(PooledASGIHandler(), "/sync")
    assert sent[0]["status"] == 200
    headers = dict(sent[0]["headers"])  # type: ignore[call-overload]
    assert headers[b"X-Content-Type-Options"] == b"nosniff"  # SecurityMiddleware ran
    assert len(seen) == 4, seen
    assert set(seen.values()) == {threading.get_ident()}, seen  # on the event loop


def test_hardening_asgi_serves_the_pooled_handler() -> None:
    assert isinstance(get_asgi_application(), PooledASGIHandler)
