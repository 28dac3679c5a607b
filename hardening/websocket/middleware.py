"""``WebSocketMiddleware``: the HTTP protections for Channels WebSocket connections.

ASGI middleware in front of a Channels websocket application (usually a ``URLRouter``)::

    application = ProtocolTypeRouter({
        "http": django_application,
        "websocket": WebSocketMiddleware(URLRouter(websocket_urlpatterns)),
    })

(:func:`hardening.asgi.get_asgi_application` with ``websocket=`` builds exactly this.)

**Before accept** (:mod:`hardening.websocket.handshake`, in a worker thread between two
``close_old_connections()``, as Django runs a request): the Host and
Origin, the credential, the connect rate limits and the MFA rule.  A refusal is a
``websocket.close`` *instead of* the accept (4401 unauthenticated, 4403 forbidden, 4429 rate
limited, 1013 limits unavailable): the server answers the upgrade with HTTP 403, so a
refused client never holds an open socket.  Nothing is ever accepted and then refused.

**While open** (:class:`~hardening.websocket.connection.Connection`): inbound messages
larger than ``MAX_MESSAGE_BYTES`` close with 1009, more than ``MESSAGE_LIMIT`` per
``MESSAGE_WINDOW`` seconds with 4429, no message either way for ``IDLE_SECONDS`` with 4408;
a token's ``exp`` closes with 4401 unless the client sent a fresh token of the same user
first (``{"type": "auth", "token": "..."}``, answered with ``{"type": "auth.ok", "exp":
...}``; the message never reaches the application).

Each connection has a request ID (a valid ``X-Request-ID`` of the handshake, or a new one:
in the log lines of the connection and in the accept's ``X-Request-ID`` header); it is
audited (``websocket.connected`` / ``.refused`` / ``.closed`` / ``.reauthenticated``) and
counted (``hardening_websocket_connections``, ``hardening_websocket_refusals_total``,
``hardening_websocket_closes_total``).  The application sees ``scope["user"]`` (as with
Channels' ``AuthMiddlewareStack``), ``scope["hardening"]`` (the ``RequestState``, with the
credential) and the offered subprotocols without the ``bearer`` pair.
"""

from __future__ import annotations

import logging

from asgiref.sync import sync_to_async

from hardening.context import request_id_var
from hardening.observability.audit import audit
from hardening.observability.logging import request_var
from hardening.observability.metrics import WEBSOCKET_REFUSALS
from hardening.observability.middleware import new_request_id, valid_request_id
from hardening.websocket import conf as constants
from hardening.websocket.connection import ASGIApp, Connection, Receive, Scope, Send
from hardening.websocket.handshake import Admitted, Refused, fresh_connections, handshake

logger = logging.getLogger("hardening.websocket")


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers") or []:
        if name == b"x-request-id":
            incoming = bytes(value).decode("latin1")
            if valid_request_id(incoming):
                return incoming
    return new_request_id()


@fresh_connections
def decide(scope: Scope, request_id: str, require_user: bool) -> Admitted | Refused:
    """The handshake's outcome; a refusal is counted and audited here (in the thread)."""
    outcome = handshake(dict(scope), request_id, require_user=require_user)
    if isinstance(outcome, Refused):
        WEBSOCKET_REFUSALS.labels(reason=outcome.reason).inc()
        audit(
            "websocket.refused",
            request=outcome.request,
            reason=outcome.reason,
            status_code=outcome.code,
        )
    return outcome


class WebSocketMiddleware:
    """Authenticate, limit and bound every WebSocket connection of ``inner``.

    ``require_user=False`` admits anonymous connections (every other check still applies;
    ``scope["user"]`` is then ``AnonymousUser``)."""

    def __init__(self, inner: ASGIApp, *, require_user: bool = True) -> None:
        self.inner = inner
        self.require_user = require_user

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.inner(scope, receive, send)
            return
        first = await receive()
        if first["type"] != "websocket.connect":
            return  # the client left before the handshake
        request_id = _request_id(scope)
        token = request_id_var.set(request_id)
        try:
            try:
                outcome = await sync_to_async(decide)(scope, request_id, self.require_user)
            except Exception:  # noqa: BLE001 - a database or cache outage: refuse, never 500
                logger.exception("The WebSocket handshake failed; the connection is refused.")
                WEBSOCKET_REFUSALS.labels(reason="error").inc()
                outcome = Refused(constants.INTERNAL_ERROR, "error")
            if isinstance(outcome, Refused):
                await send({"type": "websocket.close", "code": outcome.code})
                return
            bound = request_var.set(outcome.request)  # log lines find the user
            try:
                await Connection(self.inner, scope, outcome, receive, send, first).run()
            finally:
                request_var.reset(bound)
        finally:
            request_id_var.reset(token)
