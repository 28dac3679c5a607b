"""WebSocket checks (``hardening.E701``, ``W701``, ``W702``).

``W702`` looks at the project's ASGI application (``ASGI_APPLICATION``, the setting Channels
and Daphne read): it imports it, as Django's URL checks import ``ROOT_URLCONF``, and walks its
``websocket`` branch (``ProtocolTypeRouter`` -> middleware -> ``URLRouter`` routes).  While
it imports, :data:`hardening.startup.inspecting` is set: ``hardening.asgi`` then neither sets
Django up again (that would reconfigure logging) nor runs the start-up checks.  A route
with no :class:`~hardening.websocket.WebSocketMiddleware` in front of it accepts anybody.
What it cannot import or recognise is not reported (no guesses).
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage
from django.utils.module_loading import import_string

from hardening.checks import problem, register, warning
from hardening.startup import inspecting
from hardening.websocket.conf import conf

_WRAPPED = ("inner", "application", "app")
_MAX_DEPTH = 32


@register
def check_websocket_settings(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for name, why in conf.problems():
        messages.append(
            problem("E701", f"{name} is unusable: {why}"[:200], f"Set {name} to True or False.")
        )
    from hardening.conf import conf as core

    if core.is_production and conf.HARDENING_WEBSOCKET_QUERY_TOKEN:
        messages.append(
            warning(
                "W701",
                "WebSocket tokens are read from the query string in production.",
                "Query strings end up in access logs: send the token as the 'bearer' "
                "subprotocol and set HARDENING_WEBSOCKET_QUERY_TOKEN = False.",
            )
        )
    return messages


def guarded(app: Any, depth: int = 0) -> bool:
    """Is every WebSocket route of ``app`` behind ``WebSocketMiddleware``?"""
    from channels.routing import URLRouter

    from hardening.websocket.middleware import WebSocketMiddleware

    if isinstance(app, WebSocketMiddleware):
        return True
    if depth > _MAX_DEPTH:
        return False
    if isinstance(app, URLRouter):
        routes = list(app.routes)
        return bool(routes) and all(guarded(r.callback, depth + 1) for r in routes)
    for attribute in _WRAPPED:
        inner = getattr(app, attribute, None)
        if inner is not None:
            return guarded(inner, depth + 1)
    return False


def unguarded_websocket(path: str) -> bool | None:
    """True when the ASGI application at ``path`` serves WebSockets without the middleware;
    None when it cannot be told (not importable, being imported, no WebSocket branch)."""
    if inspecting.get():
        return None
    token = inspecting.set(True)  # its entry point must not run the start-up checks again
    try:
        app = import_string(path)
    except Exception:  # noqa: BLE001 - a broken entry point is the server's to report
        return None
    finally:
        inspecting.reset(token)
    from channels.routing import ProtocolTypeRouter

    if not isinstance(app, ProtocolTypeRouter):
        return None
    websocket = app.application_mapping.get("websocket")
    return None if websocket is None else not guarded(websocket)


@register
def check_asgi_application(**kwargs: Any) -> list[CheckMessage]:
    path = getattr(settings, "ASGI_APPLICATION", None)
    if not isinstance(path, str) or not path or find_spec("channels") is None:
        return []
    if not unguarded_websocket(path):
        return []
    return [
        warning(
            "W702",
            "ASGI_APPLICATION serves WebSockets without WebSocketMiddleware.",
            "Build it with hardening.asgi.get_asgi_application(websocket=...) or wrap the "
            "websocket router in hardening.websocket.WebSocketMiddleware.",
        )
    ]
