"""ASGI entry point: ``uvicorn example_project.asgi:application`` refuses to start on
Error-level checks, and serves ``/ws/echo`` (Django Channels, the ``websocket`` extra)
behind ``hardening.websocket.WebSocketMiddleware``."""

from __future__ import annotations

import os
from importlib.util import find_spec

from hardening.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

application = get_asgi_application(
    websocket="example_project.consumers.websocket_urlpatterns" if find_spec("channels") else None
)
