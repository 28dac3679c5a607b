"""An admitted connection (hardening.websocket.connection) at its edges: what is and is not a
re-authentication message, binary size limits, the message rate's window, an application
that refuses or closes first, closing once, and a connection with nothing to watch."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from hardening.observability.metrics import WEBSOCKET_CLOSES, WEBSOCKET_OPEN
from hardening.websocket import WebSocketMiddleware
from hardening.websocket import conf as constants
from hardening.websocket.connection import Connection
from hardening.websocket.handshake import Admitted
from tests.helpers.clock import FakeClock
from tests.websocket.helpers import communicator

pytestmark = pytest.mark.django_db(transaction=True)


def closes(reason: str) -> float:
    return float(WEBSOCKET_CLOSES.labels(reason=reason)._value.get())


def fields_of(events: list[Any], name: str) -> list[dict[str, Any]]:
    return [fields for event, fields in events if event == name]


async def session_cookie(user: Any) -> bytes:
    from django.test import Client

    client = Client()
    await sync_to_async(client.force_login)(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def test_messages_that_only_look_like_reauth_reach_the_application(access: str) -> None:
    found = communicator(access)
    assert (await found.connect())[0]
    for text in ('{"auth": not json', '{"type": "chat", "auth": 1}', '["auth"]', "auth"):
        await found.send_to(text_data=text)
        assert await found.receive_from() == text  # relayed as is, the connection stays
    await found.disconnect()


async def test_a_reauth_message_without_a_string_token_closes_with_4401(
    access: str, events: list[Any]
) -> None:
    found = communicator(access)
    assert (await found.connect())[0]
    await found.send_to(text_data=json.dumps({"type": "auth", "token": 5}))
    assert await found.receive_output() == {"type": "websocket.close", "code": 4401}
    await found.wait()
    refused = fields_of(events, "websocket.refused")
    assert refused[-1]["reason"] == "malformed" and refused[-1]["renewal"] is True
    assert refused[-1]["status_code"] == 4401
    closed = fields_of(events, "websocket.closed")
    assert closed and closed[-1]["reason"] == "reauth_refused"


async def test_reauth_messages_on_a_session_connection_are_ordinary_messages(
    user: Any, events: list[Any]
) -> None:
    """Only a token connection renews its token; a session has nothing to renew."""
    found = communicator(headers=[(b"cookie", await session_cookie(user))])
    assert (await found.connect())[0]
    text = json.dumps({"type": "auth", "token": "anything"})
    await found.send_to(text_data=text)
    assert await found.receive_from() == text
    await found.disconnect()
    assert fields_of(events, "websocket.connected")[-1]["kind"] == "session"
    assert not fields_of(events, "websocket.refused")


async def test_binary_messages_are_limited_by_their_byte_size(
    access: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(constants, "MAX_MESSAGE_BYTES", 16)
    found = communicator(access)
    assert (await found.connect())[0]
    await found.send_to(bytes_data=b"\x00" * 16)
    assert await found.receive_from() == b"\x00" * 16
    before = closes("too_big")
    await found.send_to(bytes_data=b"\x00" * 17)
    assert await found.receive_output() == {"type": "websocket.close", "code": 1009}
    assert closes("too_big") == before + 1
    await found.wait()


async def test_the_message_rate_is_counted_per_window(
    access: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, events: list[Any]
) -> None:
    from hardening.jwt.jws import parse

    monkeypatch.setattr(constants, "MESSAGE_LIMIT", 3)
    clock.t = parse(access).payload["iat"] + 1  # the token is fresh on the fake clock
    found = communicator(access)
    assert (await found.connect())[0]
    for n in range(3):
        await found.send_to(text_data=f"a{n}")
        assert await found.receive_from() == f"a{n}"
    clock.advance(constants.MESSAGE_WINDOW)  # a new window: three more
    for n in range(3):
        await found.send_to(text_data=f"b{n}")
        assert await found.receive_from() == f"b{n}"
    await found.send_to(text_data="one too many")
    assert await found.receive_output() == {"type": "websocket.close", "code": 4429}
    await found.wait()
    closed = fields_of(events, "websocket.closed")[-1]
    assert closed["reason"] == "flood" and closed["messages"] == 6


async def test_an_application_that_never_accepts_is_not_an_open_connection(
    access: str, events: list[Any]
) -> None:
    async def refuse(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.close", "code": 4000})

    before = WEBSOCKET_OPEN._value.get()
    found = communicator(access, app=WebSocketMiddleware(refuse))
    assert await found.connect() == (False, 4000)
    await found.wait()
    assert WEBSOCKET_OPEN._value.get() == before
    names = [name for name, _ in events]
    assert "websocket.connected" not in names and "websocket.closed" not in names


async def test_the_application_closing_first_keeps_its_close_code(
    access: str, events: list[Any]
) -> None:
    """After its own close the application's sends are dropped, and the client's
    disconnect that follows does not rewrite who closed the connection."""
    seen: list[Any] = []

    async def close_first(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 4000})
        await send({"type": "websocket.send", "text": "too late"})
        seen.append(await receive())

    before = WEBSOCKET_OPEN._value.get()
    found = communicator(access, app=WebSocketMiddleware(close_first))
    assert (await found.connect())[0]
    assert await found.receive_output() == {"type": "websocket.close", "code": 4000}
    assert await found.receive_nothing()  # never "too late"
    await found.send_input({"type": "websocket.disconnect", "code": 1005})
    await found.wait()
    assert seen == [{"type": "websocket.disconnect", "code": 1005}]
    closed = fields_of(events, "websocket.closed")[-1]
    assert closed["reason"] == "server" and closed["status_code"] == 4000
    assert WEBSOCKET_OPEN._value.get() == before


def admitted(credential: Any = None) -> Admitted:
    from django.test import RequestFactory

    return Admitted(request=RequestFactory().get("/ws/echo"), user=None, credential=credential)


async def test_a_connection_is_closed_once_even_when_the_client_is_gone() -> None:
    sent: list[Any] = []

    async def gone(message: Any) -> None:
        sent.append(message)
        raise OSError("the client went away")

    async def never() -> Any:  # pragma: no cover - not called here
        raise AssertionError

    async def inner(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
        raise AssertionError

    connection = Connection(inner, {}, admitted(), never, gone, {"type": "websocket.connect"})
    flood, too_big = closes("flood"), closes("too_big")
    await connection.close(constants.TOO_MANY, "flood")  # the failing send is not raised
    await connection.close(constants.TOO_BIG, "too_big")  # already closed: nothing
    assert sent == [{"type": "websocket.close", "code": constants.TOO_MANY}]
    assert (connection.code, connection.reason) == (constants.TOO_MANY, "flood")
    assert (closes("flood"), closes("too_big")) == (flood + 1, too_big)
    # The application learns it once, after the connect it has not read yet.
    queued = [connection.inbox.get_nowait() for _ in range(connection.inbox.qsize())]
    assert queued == [
        {"type": "websocket.connect"},
        {"type": "websocket.disconnect", "code": constants.TOO_MANY},
    ]


async def test_with_no_expiry_and_no_idle_timeout_nothing_is_watched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def unused(*args: Any) -> Any:  # pragma: no cover - not called here
        raise AssertionError

    connection = Connection(unused, {}, admitted(), unused, unused, {"type": "websocket.connect"})
    monkeypatch.setattr(constants, "IDLE_SECONDS", 0)
    await asyncio.wait_for(connection._watch(), 2)  # returns at once: nothing to wait for
    assert not connection.done
    monkeypatch.setattr(constants, "IDLE_SECONDS", 300.0)
    with pytest.raises(asyncio.TimeoutError):  # the idle timeout is watched
        await asyncio.wait_for(connection._watch(), 0.05)


async def test_the_token_expiry_is_enforced_without_an_idle_timeout(
    access: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hardening.jwt.jws import parse

    monkeypatch.setattr(constants, "IDLE_SECONDS", 0)
    clock.t = parse(access).payload["exp"] - 0.3
    found = communicator(access)
    assert (await found.connect())[0]
    clock.advance(1)
    assert await found.receive_output(3) == {"type": "websocket.close", "code": 4401}
    await found.wait()
