"""WebSocket consumers of the example project (Django Channels): ``/ws/echo``.

Served by ``example_project.asgi`` behind ``hardening.websocket.WebSocketMiddleware``: only
an authenticated user from this site reaches ``connect`` (docs/websocket.md).
"""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path


class EchoConsumer(AsyncWebsocketConsumer):
    """Sends every message back to its sender."""

    async def connect(self) -> None:
        await self.accept()  # the middleware echoes the "bearer" subprotocol

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> Any:
        await self.send(text_data=text_data, bytes_data=bytes_data)


websocket_urlpatterns = [path("ws/echo", EchoConsumer.as_asgi())]
