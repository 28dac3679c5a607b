"""WebSockets (Django Channels) with the protections of HTTP: see ``docs/websocket.md``.

Public API (this module; the rest of the package is internal)::

    from hardening.websocket import WebSocketMiddleware

Needs the ``websocket`` extra (``channels``).  The middleware is imported on first use, so
the app's start-up (which imports this room's checks) loads neither it nor Channels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hardening.websocket.middleware import WebSocketMiddleware

__all__ = ["WebSocketMiddleware"]


def __getattr__(name: str) -> Any:
    if name == "WebSocketMiddleware":
        from hardening.websocket.middleware import WebSocketMiddleware

        return WebSocketMiddleware
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
