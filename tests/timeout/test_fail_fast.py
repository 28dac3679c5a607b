"""Issue 14 item 1: connections fail fast, and a cancel the database does not answer is
logged at WARNING, counted, and the connection's socket shut down."""

from __future__ import annotations

import logging
import socket
import threading

import pytest

from hardening.env import POSTGRES_FAIL_FAST, Env
from hardening.timeout.db import busy_connections, cancel_running
from hardening.timeout.deadline import Deadline
from hardening.timeout.watchdog import CANCEL_FAILURES, expire


def test_postgres_urls_get_fail_fast_options_and_the_url_wins() -> None:
    config = Env({"DATABASE_URL": "postgres://u:pw@127.0.0.1:5432/app"}).db()
    assert config["OPTIONS"] == POSTGRES_FAIL_FAST
    assert POSTGRES_FAIL_FAST["connect_timeout"] <= 10
    assert POSTGRES_FAIL_FAST["tcp_user_timeout"] > 0
    config = Env({"DATABASE_URL": "postgres://u@h/app?connect_timeout=2"}).db()
    assert config["OPTIONS"]["connect_timeout"] in (2, "2")
    sqlite = Env({"DATABASE_URL": "sqlite:///:memory:"}).db()
    assert "connect_timeout" not in sqlite.get("OPTIONS", {})


class _PgConn:
    def __init__(self, sock: socket.socket, status: int = 1) -> None:
        self.socket = sock.fileno()
        self.transaction_status = status


class HungConnection:
    """A psycopg-like connection whose cancel never gets an answer."""

    closed = False

    def __init__(self, sock: socket.socket) -> None:
        self.pgconn = _PgConn(sock)

    def cancel_safe(self, timeout: float) -> None:
        raise TimeoutError("cancel timed out")


def _pair() -> tuple[socket.socket, socket.socket]:
    return socket.socketpair()


def test_failed_cancel_shuts_the_socket_down_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    ours, peer = _pair()
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(ours.recv(10)))
    reader.start()  # the query's thread, blocked on the socket
    deadline = Deadline(budget=0.0, request_id="r1")
    deadline.running[1] = ("postgresql", HungConnection(ours))
    before = CANCEL_FAILURES._value.get()
    with caplog.at_level(logging.WARNING, logger="hardening.timeout"):
        expire(deadline)
    reader.join(5)
    assert got == [b""]  # unblocked with EOF
    assert CANCEL_FAILURES._value.get() == before + 1
    assert any(
        r.levelno == logging.WARNING and "did not answer the cancel" in r.getMessage()
        for r in caplog.records
    )
    ours.close()
    peer.close()


def test_busy_connections_finds_unregistered_commands() -> None:
    ours, peer = _pair()

    class Wrapper:
        vendor = "postgresql"

        def __init__(self, status: int) -> None:
            self.connection = HungConnection(ours)
            self.connection.pgconn.transaction_status = status

    busy, idle = Wrapper(1), Wrapper(0)
    assert busy_connections([busy, idle], []) == [("postgresql", busy.connection)]
    assert busy_connections([busy], [("postgresql", busy.connection)]) == []
    assert cancel_running([("postgresql", None)]) == (0, 0)
    ours.close()
    peer.close()
