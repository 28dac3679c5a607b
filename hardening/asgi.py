"""ASGI entry point that refuses to start when Error-level checks fail.

Use it instead of ``django.core.asgi``::

    # myproject/asgi.py
    from hardening.asgi import get_asgi_application
    application = get_asgi_application()

or point the server straight at it (``DJANGO_SETTINGS_MODULE`` must be set)::

    uvicorn hardening.asgi:application

With Django Channels (the ``websocket`` extra), pass the WebSocket routes: every one of them
is served behind :class:`hardening.websocket.WebSocketMiddleware` (docs/websocket.md)::

    application = get_asgi_application(websocket="myproject.routing.websocket_urlpatterns")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, overload

import django
from django.apps import apps
from django.core.handlers.asgi import ASGIHandler
from django.utils.module_loading import import_string

from hardening.startup import run_startup_checks

__all__ = ["get_asgi_application"]


@overload
def get_asgi_application() -> ASGIHandler: ...
@overload
def get_asgi_application(*, websocket: None) -> ASGIHandler: ...
@overload
def get_asgi_application(*, websocket: str | Sequence[Any]) -> Any: ...
def get_asgi_application(*, websocket: str | Sequence[Any] | None = None) -> Any:
    """Set Django up, run the Error-level hardening checks, return the ASGI handler
    (Django's, with a pool of reused threads for thread-sensitive work:
    :class:`hardening.timeout.runner.PooledASGIHandler`).

    ``websocket``: Channels URL patterns (or the dotted path of a list of them, imported
    after set-up, so consumers may import models).  The result is then a Channels
    ``ProtocolTypeRouter``: HTTP to the handler, WebSockets through
    :class:`~hardening.websocket.WebSocketMiddleware` to a ``URLRouter`` of the patterns."""
    if not apps.ready:  # set up already: a check inspecting the application imports it
        django.setup(set_prefix=False)
    run_startup_checks()
    from hardening.timeout.runner import PooledASGIHandler

    handler = PooledASGIHandler()
    if websocket is None:
        return handler
    from channels.routing import ProtocolTypeRouter, URLRouter

    from hardening.websocket import WebSocketMiddleware

    routes = import_string(websocket) if isinstance(websocket, str) else websocket
    return ProtocolTypeRouter(
        {"http": handler, "websocket": WebSocketMiddleware(URLRouter(list(routes)))}
    )


def __getattr__(name: str) -> Any:
    # ``hardening.asgi:application`` is built on first access, not on import.
    if name == "application":
        return get_asgi_application()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
