"""An ASGI application whose WebSocket route is not behind the middleware (W702)."""

from __future__ import annotations

from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.core.asgi import get_asgi_application
from django.urls import path

from example_project.consumers import EchoConsumer, websocket_urlpatterns
from hardening.websocket import WebSocketMiddleware

application = ProtocolTypeRouter(
    {
        "http": get_asgi_application(),
        "websocket": AllowedHostsOriginValidator(
            URLRouter(
                [
                    path("ws/open", EchoConsumer.as_asgi()),
                    path("ws/", URLRouter(websocket_urlpatterns)),
                ]
            )
        ),
    }
)
protected = WebSocketMiddleware(URLRouter(websocket_urlpatterns))
guarded = ProtocolTypeRouter({"websocket": AllowedHostsOriginValidator(protected)})
