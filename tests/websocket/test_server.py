"""``/ws/echo`` of the example project through a real uvicorn process, with a real
WebSocket client (``websockets``): the contract of DESIGN.md and issue 18.

A refusal before accept reaches the client as the HTTP status of the upgrade (uvicorn
answers a ``websocket.close`` before accept with 403); a close of an open connection
carries its close code (4401 expiry, 4429 flood, 1009 oversize)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from example_project.settings import DEV_JWT_SIGNING_KEY
from tests.servers import Server, run_until_exit, serve

pytestmark = pytest.mark.server

PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp_path = tmp_path_factory.mktemp("ws")
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    manage = [sys.executable, "example_project/manage.py"]
    done = run_until_exit([*manage, "migrate", "--noinput"], env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    script = (
        "from django.contrib.auth import get_user_model as g;"
        f"g().objects.create_user('wsuser', password='{PASSWORD}')"
    )
    done = run_until_exit([*manage, "shell", "-c", script], env=env, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    with serve("uvicorn", env=env, tmp_path=tmp_path) as found:
        yield found


@pytest.fixture(scope="module")
def access(server: Server) -> str:
    login = server.request(
        "/api/auth/token",
        method="POST",
        headers={"Content-Type": "application/json"},
        data=json.dumps({"username": "wsuser", "password": PASSWORD}).encode(),
    )
    assert login.status == 200, login.body
    return str(login.json()["access"])  # type: ignore[index]


def resigned(token: str, **changes: Any) -> str:
    """The example's own token with changed claims, signed with its development key."""
    claims = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode({**claims, **changes}, DEV_JWT_SIGNING_KEY, algorithm="HS256")


def open_echo(server: Server, token: str | None, origin: str | None = None) -> ClientConnection:
    return connect(
        f"ws://127.0.0.1:{server.port}/ws/echo",
        subprotocols=["bearer", token] if token is not None else None,  # type: ignore[list-item]
        origin=origin or f"http://127.0.0.1:{server.port}",  # type: ignore[arg-type]
        proxy=None,
        open_timeout=10,
    )


def refused_status(server: Server, token: str | None, origin: str | None = None) -> int:
    with pytest.raises(InvalidStatus) as refused:
        open_echo(server, token, origin).close()
    return int(refused.value.response.status_code)


def closed_code(ws: ClientConnection, timeout: float = 10) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(timeout=timeout)
    assert closed.value.rcvd is not None
    return int(closed.value.rcvd.code)


def test_a_valid_token_is_accepted_and_echoes(server: Server, access: str) -> None:
    with open_echo(server, access) as ws:
        assert ws.subprotocol == "bearer"  # never the token
        assert len(ws.response.headers["X-Request-ID"]) >= 8
        ws.send("hello")
        assert ws.recv(timeout=10) == "hello"


@pytest.mark.parametrize("case", ["none", "bad", "forged", "expired"])
def test_refused_before_accept(server: Server, access: str, case: str) -> None:
    token = {
        "none": None,
        "bad": "not-a-token",
        "forged": jwt.encode({"user_id": 1}, "another key of well over thirty-two bytes!!"),
        "expired": resigned(access, exp=int(time.time()) - 3600),
    }[case]
    assert refused_status(server, token) == 403  # the 4401 close before accept, over HTTP


def test_a_foreign_origin_is_refused(server: Server, access: str) -> None:
    assert refused_status(server, access, origin="https://evil.example") == 403


def test_a_message_flood_is_closed(server: Server, access: str) -> None:
    with open_echo(server, access) as ws:
        for n in range(200):
            try:
                ws.send(str(n))
            except ConnectionClosed:
                break
        assert closed_code(ws) == 4429


def test_an_oversize_message_is_closed(server: Server, access: str) -> None:
    with open_echo(server, access) as ws:
        ws.send("x" * (64 * 1024 + 1))
        assert closed_code(ws) == 1009


def test_the_token_expiry_closes_the_connection(server: Server, access: str) -> None:
    short = resigned(access, exp=int(time.time()) + 3)
    with open_echo(server, short) as ws:
        ws.send("before")
        assert ws.recv(timeout=10) == "before"
        started = time.monotonic()
        assert closed_code(ws) == 4401
        assert time.monotonic() - started < 6


def test_a_fresh_token_keeps_the_connection_open(server: Server, access: str) -> None:
    short = resigned(access, exp=int(time.time()) + 2)
    with open_echo(server, short) as ws:
        ws.send(json.dumps({"type": "auth", "token": access}))
        assert json.loads(ws.recv(timeout=10))["type"] == "auth.ok"
        time.sleep(3)  # past the first token's exp
        ws.send("still open")
        assert ws.recv(timeout=10) == "still open"


def test_the_documented_python_client_runs(server: Server, access: str) -> None:
    from tests.helpers.docs import doc_block

    namespace: dict[str, Any] = {
        "url": f"ws://127.0.0.1:{server.port}/ws/echo",
        "origin": f"http://127.0.0.1:{server.port}",
        "access": access,
        "fresh_access": access,
    }
    exec(doc_block("websocket.md", "Connecting"), namespace)  # noqa: S102 - our own docs
    assert namespace["reply"]["type"] == "auth.ok"
