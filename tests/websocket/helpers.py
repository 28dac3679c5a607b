"""WebSocket test helpers: the example's ``/ws/echo`` behind the middleware, driven by
Channels' ``WebsocketCommunicator`` (in process) and tokens for a user; ``in_worker_thread``
for database work on the thread that runs handshakes."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from importlib.util import find_spec
from typing import Any, TypeVar

from asgiref.sync import SyncToAsync
from channels.routing import URLRouter

if find_spec("daphne") is None and "channels.testing" not in sys.modules:
    # channels.testing's __init__ imports its live-server test case, which needs daphne (not
    # a dependency here); the communicator modules do not: load the package without it.
    _spec = find_spec("channels.testing")
    assert _spec is not None and _spec.submodule_search_locations is not None
    _package = types.ModuleType("channels.testing")
    _package.__path__ = list(_spec.submodule_search_locations)
    sys.modules["channels.testing"] = _package

from channels.testing.websocket import WebsocketCommunicator  # noqa: E402

from example_project.consumers import websocket_urlpatterns
from hardening.websocket import WebSocketMiddleware

T = TypeVar("T")

HOST = "testserver"
ORIGIN = f"http://{HOST}"


def application(**options: Any) -> WebSocketMiddleware:
    return WebSocketMiddleware(URLRouter(websocket_urlpatterns), **options)


def communicator(
    token: str | None = None,
    *,
    origin: str | None = ORIGIN,
    path: str = "/ws/echo",
    headers: list[tuple[bytes, bytes]] | None = None,
    subprotocols: list[str] | None = None,
    app: Any = None,
    client: str = "192.0.2.50",
) -> WebsocketCommunicator:
    sent = [(b"host", HOST.encode())]
    if origin is not None:
        sent.append((b"origin", origin.encode()))
    sent += headers or []
    protocols = list(subprotocols or [])
    if token is not None:
        protocols += ["bearer", token]
    found = WebsocketCommunicator(app or application(), path, headers=sent, subprotocols=protocols)
    found.scope["client"] = (client, 50000)
    return found


def in_worker_thread(function: Callable[[], T]) -> T:
    """Run ``function`` on asgiref's thread for thread-sensitive work outside a request
    (where an async test's ``sync_to_async`` calls run: the handshake's database work)."""
    return SyncToAsync.single_thread_executor.submit(function).result(timeout=30)
