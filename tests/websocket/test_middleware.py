"""The middleware in process, driven by Channels' ``WebsocketCommunicator``: who is
admitted, every refusal before accept, and the limits of an open connection."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings

from hardening.observability.metrics import WEBSOCKET_CLOSES, WEBSOCKET_OPEN, WEBSOCKET_REFUSALS
from hardening.websocket import conf as constants
from tests.helpers.clock import FakeClock
from tests.websocket.helpers import communicator, in_worker_thread

pytestmark = pytest.mark.django_db(transaction=True)


def refusals(reason: str) -> float:
    return WEBSOCKET_REFUSALS.labels(reason=reason)._value.get()  # type: ignore[no-any-return]


async def refused_code(found: Any) -> int:
    connected, code = await found.connect()
    assert connected is False, "accepted: the middleware must refuse before accept"
    await found.wait()
    return int(code)


async def test_a_valid_token_is_accepted_and_echoed(access: str, events: list[Any]) -> None:
    found = communicator(access)
    connected, subprotocol = await found.connect()
    assert connected and subprotocol == "bearer"  # the non-secret half only
    headers = dict(found.response_headers)
    assert len(headers[b"x-request-id"]) >= 8
    await found.send_to(text_data="hello")
    assert await found.receive_from() == "hello"
    await found.disconnect()
    names = [name for name, _ in events]
    assert "websocket.connected" in names and "websocket.closed" in names
    closed = dict(events)["websocket.closed"]
    assert closed["reason"] == "client" and closed["messages"] == 1


async def test_the_application_sees_the_user_and_not_the_token(access: str, user: Any) -> None:
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.update(scope)
        await receive()
        await send({"type": "websocket.accept"})
        await receive()

    from hardening.websocket import WebSocketMiddleware

    found = communicator(access, subprotocols=["chat"], app=WebSocketMiddleware(app))
    connected, subprotocol = await found.connect()
    assert connected and subprotocol == "bearer"
    assert seen["user"].pk == user.pk and seen["subprotocols"] == ["chat"]
    assert seen["hardening"].credential.kind == "jwt"
    assert access not in json.dumps(seen["subprotocols"])
    await found.disconnect()


async def test_no_credentials_is_refused_with_4401_before_accept(events: list[Any]) -> None:
    before = refusals("no_credentials")
    assert await refused_code(communicator()) == constants.UNAUTHENTICATED
    assert refusals("no_credentials") == before + 1
    refused = [f for e, f in events if e == "websocket.refused"]
    assert refused and refused[0]["reason"] == "no_credentials"
    assert refused[0]["client_ip"] == "192.0.2.50"


@pytest.mark.parametrize("token", ["not-a-token", "eyJhbGciOiJIUzI1NiJ9.e30.c2ln", ""])
async def test_a_bad_token_is_refused_with_4401(token: str) -> None:
    assert await refused_code(communicator(token)) == constants.UNAUTHENTICATED


async def test_an_expired_token_is_refused_with_4401(access: str, clock: FakeClock) -> None:
    clock.advance(24 * 3600)  # well past exp and the leeway
    before = refusals("expired")
    assert await refused_code(communicator(access)) == constants.UNAUTHENTICATED
    assert refusals("expired") == before + 1


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "http://testserver.evil.example", "file://"]
)
async def test_a_foreign_origin_is_refused_with_4403(access: str, origin: str) -> None:
    before = refusals("origin")
    assert await refused_code(communicator(access, origin=origin)) == constants.FORBIDDEN
    assert refusals("origin") == before + 1


async def test_a_host_outside_allowed_hosts_is_refused(access: str) -> None:
    found = communicator(access)
    found.scope["headers"] = [(b"host", b"evil.example"), (b"origin", b"http://evil.example")]
    assert await refused_code(found) == constants.FORBIDDEN


@override_settings(CSRF_TRUSTED_ORIGINS=["https://*.example.com"])
async def test_trusted_origins_and_allowed_hosts_are_admitted(access: str) -> None:
    for origin in ("https://app.example.com", "http://localhost:3000", None):
        found = communicator(access, origin=origin)
        connected, _ = await found.connect()
        assert connected, origin  # no Origin: not a browser, nothing to hijack
        await found.disconnect()


async def test_an_authorization_header_works_for_non_browser_clients(access: str) -> None:
    found = communicator(headers=[(b"authorization", f"Bearer {access}".encode())])
    connected, subprotocol = await found.connect()
    assert connected and subprotocol is None
    await found.disconnect()


async def test_a_query_token_is_refused_unless_opted_in(access: str) -> None:
    path = f"/ws/echo?access_token={access}"
    assert await refused_code(communicator(path=path)) == constants.UNAUTHENTICATED
    with override_settings(HARDENING_WEBSOCKET_QUERY_TOKEN=True):
        found = communicator(path=path)
        connected, _ = await found.connect()
        assert connected
        await found.disconnect()


async def test_a_session_cookie_authenticates(user: Any) -> None:
    from django.test import Client

    client = Client()
    await sync_to_async(client.force_login)(user)
    cookie = client.cookies["sessionid"].value
    found = communicator(headers=[(b"cookie", f"sessionid={cookie}".encode())])
    connected, _ = await found.connect()
    assert connected
    await found.disconnect()
    found = communicator(headers=[(b"cookie", b"sessionid=forged")])
    assert await refused_code(found) == constants.UNAUTHENTICATED


async def test_the_mfa_policy_applies_like_http(access: str, user: Any) -> None:
    user.is_staff = True
    await sync_to_async(user.save)()
    with override_settings(HARDENING_MFA_REQUIRED="staff"):
        assert await refused_code(communicator(access)) == constants.FORBIDDEN
        from hardening.jwt.tokens import issue_token_pair

        pair = await sync_to_async(issue_token_pair)(user, amr=["pwd", "otp"])
        found = communicator(pair["access"])
        connected, _ = await found.connect()
        assert connected
        await found.disconnect()


async def test_connects_are_rate_limited_per_user(access: str) -> None:
    policy = {"name": "ws", "key": "user", "rates": ["2/m"], "paths": ["/ws/"]}
    with override_settings(HARDENING_RATELIMIT_POLICIES=[policy]):
        for _ in range(2):
            found = communicator(access)
            assert (await found.connect())[0]
            await found.disconnect()
        assert await refused_code(communicator(access)) == constants.TOO_MANY


async def test_bad_tokens_count_against_the_address() -> None:
    policy = {"name": "ws", "key": "ip", "rates": ["2/m"], "paths": ["/ws/"]}
    with override_settings(HARDENING_RATELIMIT_POLICIES=[policy]):
        codes = [await refused_code(communicator("bad")) for _ in range(3)]
    assert codes == [constants.UNAUTHENTICATED] * 2 + [constants.TOO_MANY]


async def test_a_message_flood_is_closed_with_4429(
    access: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(constants, "MESSAGE_LIMIT", 5)
    before = WEBSOCKET_CLOSES.labels(reason="flood")._value.get()
    found = communicator(access)
    assert (await found.connect())[0]
    for n in range(5):
        await found.send_to(text_data=str(n))
        assert await found.receive_from() == str(n)
    await found.send_to(text_data="one too many")
    closed = await found.receive_output()
    assert closed == {"type": "websocket.close", "code": constants.TOO_MANY}
    assert WEBSOCKET_CLOSES.labels(reason="flood")._value.get() == before + 1
    await found.wait()


async def test_an_oversize_message_is_closed_with_1009(access: str) -> None:
    found = communicator(access)
    assert (await found.connect())[0]
    await found.send_to(text_data="é" * (constants.MAX_MESSAGE_BYTES // 2 + 1))
    assert await found.receive_output() == {"type": "websocket.close", "code": 1009}
    await found.wait()


async def test_an_idle_connection_is_closed(access: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(constants, "IDLE_SECONDS", 0.2)
    found = communicator(access)
    assert (await found.connect())[0]
    assert await found.receive_output(2) == {"type": "websocket.close", "code": constants.IDLE}
    await found.wait()


async def test_the_token_expiry_closes_with_4401(access: str, clock: FakeClock) -> None:
    from hardening.jwt.jws import parse

    exp = parse(access).payload["exp"]
    clock.t = exp - 0.3
    found = communicator(access)
    assert (await found.connect())[0]
    clock.advance(1)  # the watcher wakes 0.3 s later and finds the token expired
    closed = await found.receive_output(3)
    assert closed == {"type": "websocket.close", "code": constants.UNAUTHENTICATED}
    await found.wait()


async def test_a_fresh_token_of_the_same_user_extends_the_connection(
    access: str, user: Any, django_user_model: Any, clock: FakeClock, events: list[Any]
) -> None:
    from hardening.jwt.jws import parse
    from hardening.jwt.tokens import issue_token_pair

    exp = parse(access).payload["exp"]
    clock.t = exp - 0.5
    found = communicator(access)
    assert (await found.connect())[0]
    fresh = (await sync_to_async(issue_token_pair)(user, amr=["pwd"]))["access"]
    await found.send_to(text_data=json.dumps({"type": "auth", "token": fresh}))
    reply = json.loads(await found.receive_from())
    assert reply == {"type": "auth.ok", "exp": float(parse(fresh).payload["exp"])}
    clock.advance(2)  # past the first token's exp
    await asyncio.sleep(0.6)
    await found.send_to(text_data="still here")
    assert await found.receive_from() == "still here"
    assert "websocket.reauthenticated" in [e for e, _ in events]

    other = await sync_to_async(django_user_model.objects.create_user)("ws-bob")
    foreign = (await sync_to_async(issue_token_pair)(other, amr=["pwd"]))["access"]
    await found.send_to(text_data=json.dumps({"type": "auth", "token": foreign}))
    assert await found.receive_output() == {"type": "websocket.close", "code": 4403}
    await found.wait()


async def test_a_bad_reauth_token_closes_with_4401(access: str) -> None:
    found = communicator(access)
    assert (await found.connect())[0]
    await found.send_to(text_data=json.dumps({"type": "auth", "token": "bad"}))
    assert await found.receive_output() == {"type": "websocket.close", "code": 4401}
    await found.wait()


async def test_the_open_connections_gauge(access: str) -> None:
    before = WEBSOCKET_OPEN._value.get()
    found = communicator(access)
    assert (await found.connect())[0]
    assert WEBSOCKET_OPEN._value.get() == before + 1
    await found.disconnect()
    assert WEBSOCKET_OPEN._value.get() == before


async def test_an_incoming_request_id_is_kept(access: str, events: list[Any]) -> None:
    found = communicator(access, headers=[(b"x-request-id", b"ws-trace-12345")])
    assert (await found.connect())[0]
    assert dict(found.response_headers)[b"x-request-id"] == b"ws-trace-12345"
    await found.disconnect()


async def test_a_token_within_the_leeway_is_refused_not_accepted_and_closed(
    access: str, clock: FakeClock
) -> None:
    from hardening.jwt.jws import parse

    clock.t = parse(access).payload["exp"] + 2  # the leeway (5 s) would still verify it
    assert await refused_code(communicator(access)) == constants.UNAUTHENTICATED


async def test_outbound_messages_keep_a_connection_from_idling(
    access: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(constants, "IDLE_SECONDS", 0.5)

    async def stream(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        for n in range(8):
            await send({"type": "websocket.send", "text": str(n)})
            await asyncio.sleep(0.15)
        await send({"type": "websocket.close", "code": 1000})

    from hardening.websocket import WebSocketMiddleware

    found = communicator(access, app=WebSocketMiddleware(stream))
    assert (await found.connect())[0]
    for n in range(8):  # 1.2 s in all: more than the idle timeout, never idle
        assert await found.receive_from(2) == str(n)
    assert await found.receive_output(2) == {"type": "websocket.close", "code": 1000}


async def test_a_failing_handshake_is_refused_not_a_crash(
    access: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hardening.websocket import handshake

    def down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the database is down")

    monkeypatch.setattr(handshake, "authenticate", down)
    assert await refused_code(communicator(access)) == 1011


async def test_a_failing_reauthentication_closes_the_connection(
    access: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hardening.websocket import handshake

    found = communicator(access)
    assert (await found.connect())[0]

    def down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the database is down")

    monkeypatch.setattr(handshake, "authenticate", down)
    await found.send_to(text_data=json.dumps({"type": "auth", "token": access}))
    assert await found.receive_output() == {"type": "websocket.close", "code": 1011}
    await found.wait()


@override_settings(ALLOWED_HOSTS=["*"])
async def test_a_wildcard_allowed_hosts_admits_no_foreign_origin(access: str) -> None:
    assert await refused_code(communicator(access, origin="https://evil.example")) == 4403
    found = communicator(access)  # its own origin still works
    assert (await found.connect())[0]
    await found.disconnect()


@pytest.mark.redis
async def test_connect_limits_on_redis_are_shared_with_http(access: str, user: Any) -> None:
    """One budget for a user's requests and connects: the limiter's Redis script."""
    from hardening.ratelimit.middleware import RateLimitMiddleware
    from tests.helpers.ratelimit import ok_view, request

    policy = {"name": "ws-redis", "key": "user", "rates": ["3/m"]}
    with override_settings(HARDENING_CACHE="redis", HARDENING_RATELIMIT_POLICIES=[policy]):
        http = RateLimitMiddleware(ok_view)
        statuses = [
            (await sync_to_async(http)(request("/api/me", user=user))).status_code for _ in range(2)
        ]
        assert statuses == [200, 200]
        found = communicator(access)
        assert (await found.connect())[0]  # the third of three
        await found.disconnect()
        assert await refused_code(communicator(access)) == constants.TOO_MANY


@pytest.mark.postgres
async def test_the_handshake_closes_obsolete_database_connections(
    access: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As Django does around a request: no connection is held past CONN_MAX_AGE by the
    thread that runs handshakes (a pool slot, or a broken connection after a restart)."""
    from django.db import connections

    in_worker_thread(connections.close_all)
    monkeypatch.setitem(connections["default"].settings_dict, "CONN_MAX_AGE", 0)
    found = communicator(access)
    assert (await found.connect())[0]
    assert in_worker_thread(lambda: connections["default"].connection is None)
    await found.disconnect()


async def test_an_oidc_token_is_verified_by_the_http_verifiers(settings: Any) -> None:
    from hardening.jwt.issuers import configured
    from hardening.jwt.keys import clear_stores
    from tests.jwt.helpers import (
        AUDIENCE,
        OIDC_ISSUER,
        JWKSServer,
        add_issuer,
        claims,
        jwk,
        rsa_key,
        sign,
    )

    with JWKSServer([jwk(rsa_key(), "k1")]) as server:
        add_issuer(settings, issuer=OIDC_ISSUER, jwks_url=server.url, audience=AUDIENCE)
        configured.cache_clear()
        clear_stores()
        try:
            found = communicator(sign(claims(OIDC_ISSUER, aud=AUDIENCE, sub="ws-oidc")))
            connected, _ = await found.connect()
            assert connected
            await found.disconnect()
            wrong_audience = sign(claims(OIDC_ISSUER, aud="another-api", sub="ws-oidc"))
            assert await refused_code(communicator(wrong_audience)) == 4401
        finally:
            configured.cache_clear()
            clear_stores()


async def test_the_audit_fields_survive_the_log_scrubber(events: list[Any]) -> None:
    from hardening.observability.scrub import scrub

    assert await refused_code(communicator()) == constants.UNAUTHENTICATED
    [fields] = [f for e, f in events if e == "websocket.refused"]
    assert scrub(fields) == fields  # the close code is not blanked as a "code"
    assert fields["status_code"] == 4401 and fields["reason"] == "no_credentials"
