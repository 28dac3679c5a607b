"""One admitted WebSocket connection: :class:`Connection` relays messages between the
server and the application, enforcing the per-connection limits (size, rate, idle time),
the token's expiry and the re-authentication message (see :mod:`.middleware`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from asgiref.sync import sync_to_async

from hardening import clock
from hardening.observability.audit import audit
from hardening.observability.metrics import WEBSOCKET_CLOSES, WEBSOCKET_OPEN
from hardening.request import state
from hardening.websocket import conf as constants
from hardening.websocket.handshake import Admitted, Refused, fresh_connections, reauthenticate

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("hardening.websocket")
#: Audit from a worker thread (the signal's receivers may use the database).
_audit = fresh_connections(audit)


def _without_query_token(query: bytes) -> bytes:
    pairs = parse_qsl(query.decode("latin1"), keep_blank_values=True)
    return urlencode([(k, v) for k, v in pairs if k != constants.QUERY_PARAMETER]).encode()


def _reauth_token(message: Message) -> str | None:
    """The token of a re-auth message, ``""`` for a malformed one, None for any other."""
    text = message.get("text")
    if not isinstance(text, str) or not text.startswith("{") or '"auth"' not in text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("type") != constants.REAUTH_TYPE:
        return None
    token = data.get("token")
    return token if isinstance(token, str) else ""


def _size(message: Message) -> int:
    text, data = message.get("text"), message.get("bytes")
    if isinstance(text, str):
        return len(text) if len(text) * 4 <= constants.MAX_MESSAGE_BYTES else len(text.encode())
    return len(data) if isinstance(data, bytes | bytearray) else 0


class Connection:
    """One admitted connection: relays messages between the server and ``inner``,
    enforcing the limits, the token's expiry and the idle timeout."""

    def __init__(
        self,
        inner: ASGIApp,
        scope: Scope,
        admitted: Admitted,
        receive: Receive,
        send: Send,
        connect: Message,
    ) -> None:
        self.inner, self.scope, self.admitted = inner, scope, admitted
        self.receive, self.send = receive, send
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.inbox.put_nowait(connect)
        self.expires = admitted.expires
        self.wake = asyncio.Event()
        self.accepted = False
        self.done = False
        self.code: int | None = None
        self.reason = "server"
        self.opened = clock.monotonic()
        self.last_seen = self.opened
        self.window_start, self.window_count, self.messages = self.opened, 0, 0

    def inner_scope(self) -> Scope:
        scope = dict(self.scope)
        scope["subprotocols"] = list(self.admitted.subprotocols)
        scope["user"] = self.admitted.user
        scope["hardening"] = state(self.admitted.request)
        if constants.conf.HARDENING_WEBSOCKET_QUERY_TOKEN and scope.get("query_string"):
            scope["query_string"] = _without_query_token(scope["query_string"])
        return scope

    async def run(self) -> None:
        tasks = [asyncio.ensure_future(self._pump()), asyncio.ensure_future(self._watch())]
        try:
            await self.inner(self.inner_scope(), self.inbox.get, self._send)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.accepted:
                WEBSOCKET_OPEN.dec()
                await sync_to_async(fresh_connections(self._audit_closed))()

    def _audit_closed(self) -> None:
        audit(
            "websocket.closed",
            request=self.admitted.request,
            reason=self.reason,
            status_code=self.code,
            messages=self.messages,
            seconds=round(clock.monotonic() - self.opened, 3),
        )

    async def close(self, code: int, reason: str) -> None:
        """Close from our side: tell the client, then the application (a disconnect)."""
        if self.done:
            return
        self.done, self.code, self.reason = True, code, reason
        WEBSOCKET_CLOSES.labels(reason=reason).inc()
        with contextlib.suppress(Exception):  # the client may be gone already
            await self.send({"type": "websocket.close", "code": code})
        self.inbox.put_nowait({"type": "websocket.disconnect", "code": code})

    async def _send(self, message: Message) -> None:
        if self.done:
            return  # closed by us or by the client: the application learns it from receive
        kind = message.get("type")
        if kind == "websocket.accept":
            message = dict(message)
            if self.admitted.echo_bearer and message.get("subprotocol") not in (
                self.admitted.subprotocols
            ):
                message["subprotocol"] = constants.SUBPROTOCOL  # never the token
            request_id = state(self.admitted.request).request_id
            headers = list(message.get("headers") or [])
            message["headers"] = [*headers, (b"x-request-id", request_id.encode())]
            await self.send(message)
            self.accepted = True
            WEBSOCKET_OPEN.inc()
            await sync_to_async(_audit)(
                "websocket.connected",
                request=self.admitted.request,
                kind=self.admitted.credential.kind if self.admitted.credential else "session",
            )
            return
        if kind == "websocket.close":
            self.done, self.code, self.reason = True, int(message.get("code") or 1000), "server"
        elif kind == "websocket.send":
            self.last_seen = clock.monotonic()  # a streaming connection is not idle
        await self.send(message)

    def _over_rate(self) -> bool:
        now = clock.monotonic()
        if now - self.window_start >= constants.MESSAGE_WINDOW:
            self.window_start, self.window_count = now, 0
        self.window_count += 1
        return self.window_count > constants.MESSAGE_LIMIT

    async def _pump(self) -> None:
        try:
            await self._relay()
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - e.g. the database during a re-authentication
            logger.exception("A WebSocket connection failed; it is closed.")
            await self.close(constants.INTERNAL_ERROR, "error")

    async def _relay(self) -> None:
        while not self.done:
            message = await self.receive()
            kind = message.get("type")
            if kind == "websocket.disconnect":
                if not self.done:
                    self.done, self.code = True, int(message.get("code") or 1005)
                    self.reason = "client"
                self.inbox.put_nowait(message)
                return
            if kind == "websocket.receive":
                if _size(message) > constants.MAX_MESSAGE_BYTES:
                    await self.close(constants.TOO_BIG, "too_big")
                    return
                if self._over_rate():
                    await self.close(constants.TOO_MANY, "flood")
                    return
                self.messages += 1
                self.last_seen = clock.monotonic()
                if self.admitted.credential is not None:
                    token = _reauth_token(message)
                    if token is not None:
                        await self._reauthenticate(token)
                        continue
            self.inbox.put_nowait(message)

    async def _reauthenticate(self, token: str) -> None:
        outcome = (
            Refused(constants.UNAUTHENTICATED, "malformed")
            if not token
            else await sync_to_async(reauthenticate)(self.admitted, token)
        )
        if isinstance(outcome, Refused):
            await sync_to_async(_audit)(
                "websocket.refused",
                request=self.admitted.request,
                reason=outcome.reason,
                status_code=outcome.code,
                renewal=True,
            )
            await self.close(outcome.code, "reauth_refused")
            return
        self.admitted.credential = outcome
        state(self.admitted.request).credential = outcome
        self.expires = self.admitted.expires
        self.wake.set()
        request = self.admitted.request
        await sync_to_async(_audit)("websocket.reauthenticated", request=request)
        reply = {"type": "auth.ok", "exp": self.expires}
        await self.send({"type": "websocket.send", "text": json.dumps(reply)})

    async def _watch(self) -> None:
        while not self.done:
            waits = []
            if self.expires is not None:
                waits.append(self.expires - clock.now())
            if constants.IDLE_SECONDS:
                waits.append(self.last_seen + constants.IDLE_SECONDS - clock.monotonic())
            if not waits:
                return
            delay = min(waits)
            if delay <= 0:
                if self.expires is not None and clock.now() >= self.expires:
                    await self.close(constants.UNAUTHENTICATED, "expired")
                else:
                    await self.close(constants.IDLE, "idle")
                return
            self.wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wake.wait(), delay)
