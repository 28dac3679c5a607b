"""The WebSocket room's edges outside an admitted connection: scopes that are not
WebSockets pass through, a client that leaves before the handshake, an unusable incoming
request ID, and the W702 walk on applications it cannot or need not look into."""

from __future__ import annotations

from typing import Any

import pytest
from channels.routing import URLRouter
from django.test import override_settings

from hardening.observability.metrics import WEBSOCKET_REFUSALS
from hardening.observability.middleware import valid_request_id
from hardening.websocket import WebSocketMiddleware
from hardening.websocket.checks import guarded, unguarded_websocket
from tests.helpers.checks import check_error_codes
from tests.websocket.helpers import communicator

pytestmark = pytest.mark.django_db(transaction=True)


def refusals() -> float:
    return sum(sample.value for sample in WEBSOCKET_REFUSALS.collect()[0].samples)


@pytest.mark.parametrize("kind", ["http", "lifespan"])
async def test_other_scopes_reach_the_application_untouched(kind: str) -> None:
    seen: list[Any] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope, await receive()))

    async def receive() -> Any:
        return {"type": f"{kind}.request"}

    async def send(message: Any) -> None:  # pragma: no cover - the inner app sends nothing
        raise AssertionError(message)

    scope = {"type": kind, "path": "/ws/echo"}
    await WebSocketMiddleware(inner)(scope, receive, send)
    assert seen == [(scope, {"type": f"{kind}.request"})]  # no handshake, no user added


async def test_a_client_that_leaves_before_the_handshake_is_not_refused() -> None:
    async def inner(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
        raise AssertionError("never reached")

    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "websocket.disconnect", "code": 1001}

    async def send(message: Any) -> None:  # pragma: no cover - nothing to answer
        sent.append(message)

    before = refusals()
    scope = {"type": "websocket", "path": "/ws/echo", "headers": []}
    await WebSocketMiddleware(inner)(scope, receive, send)
    assert sent == [] and refusals() == before


@pytest.mark.parametrize("incoming", [b"bad id with spaces", b"x" * 300, b"a\r\nb"])
async def test_an_unusable_incoming_request_id_is_replaced(access: str, incoming: bytes) -> None:
    found = communicator(access, headers=[(b"x-request-id", incoming)])
    assert (await found.connect())[0]
    echoed = dict(found.response_headers)[b"x-request-id"].decode()
    assert echoed.encode() != incoming and valid_request_id(echoed)
    await found.disconnect()


def test_the_walk_gives_up_on_a_too_deep_chain() -> None:
    class Wrapper:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

    app: Any = WebSocketMiddleware(URLRouter([]))
    assert guarded(app)
    for _ in range(40):  # deeper than the walk follows: not called guarded
        app = Wrapper(app)
    assert guarded(app) is False
    assert guarded(URLRouter([])) is False  # no route at all is no proof either


def test_an_application_that_is_no_protocol_router_is_not_judged() -> None:
    assert unguarded_websocket("tests.websocket.asgi_unguarded.protected") is None
    with override_settings(ASGI_APPLICATION="tests.websocket.asgi_unguarded.protected"):
        assert "hardening.W702" not in check_error_codes()


def test_the_walk_does_not_recurse_into_itself() -> None:
    """An entry point importing while the check inspects it is not inspected again."""
    from hardening.startup import inspecting

    token = inspecting.set(True)
    try:
        assert unguarded_websocket("tests.websocket.asgi_unguarded.application") is None
    finally:
        inspecting.reset(token)


@pytest.mark.parametrize("value", [None, "", 5])
def test_no_usable_asgi_application_setting_is_no_warning(value: Any) -> None:
    with override_settings(ASGI_APPLICATION=value):
        assert "hardening.W702" not in check_error_codes()


def test_the_package_exports_only_the_middleware() -> None:
    import hardening.websocket as package

    assert package.WebSocketMiddleware is WebSocketMiddleware
    with pytest.raises(AttributeError, match="no attribute 'Connection'"):
        package.Connection  # noqa: B018 - the lazy attribute lookup is the test
