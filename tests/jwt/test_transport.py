"""The JWKS fetch's transport (hardening.jwt.transport): the lookup slots, a failing or
slot-starved name lookup, the deadline socket, each address of a name, the connection's
source address; and what fetch_document makes of a response's status and Cache-Control."""

from __future__ import annotations

import os
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from hardening.jwt import transport
from hardening.jwt.fetch import KeyLookupError, fetch_document
from tests.jwt.helpers import JWKSServer


def free_slots() -> int:
    """How many lookup slots are free now (taken and given back)."""
    taken = 0
    while transport._slots.acquire(blocking=False):
        taken += 1
    for _ in range(taken):
        transport._slots.release()
    return taken


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """``socket.getaddrinfo`` for ``*.test`` names answers from this dict (an exception is
    raised); other names go to the real resolver."""
    answers: dict[str, Any] = {}
    real = socket.getaddrinfo

    def fake(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not str(host).endswith(".test"):
            return real(host, *args, **kwargs)
        found = answers[str(host)]
        if isinstance(found, BaseException):
            raise found
        return found

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    yield answers
    assert free_slots() == transport.MAX_LOOKUPS  # no test leaks a slot


def test_a_failing_lookup_is_a_connection_error_and_frees_its_slot(
    names: dict[str, Any],
) -> None:
    names["gone.test"] = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    with pytest.raises(socket.gaierror):
        transport.resolve("gone.test", 443, time.monotonic() + 2)
    with pytest.raises(KeyLookupError) as failed:
        fetch_document("http://gone.test/.well-known/jwks.json", 2.0)
    assert failed.value.reason == "connection"


def test_a_name_without_addresses_is_a_connection_error(names: dict[str, Any]) -> None:
    names["empty.test"] = []
    with pytest.raises(KeyLookupError) as failed:
        fetch_document("http://empty.test/.well-known/jwks.json", 2.0)
    assert failed.value.reason == "connection"


def test_every_slot_taken_waits_only_until_the_deadline(names: dict[str, Any]) -> None:
    names["busy.test"] = socket.getaddrinfo("127.0.0.1", 80, 0, socket.SOCK_STREAM)
    for _ in range(transport.MAX_LOOKUPS):
        assert transport._slots.acquire(blocking=False)
    try:
        began = time.monotonic()
        with pytest.raises(TimeoutError, match="every lookup slot is taken"):
            transport.resolve("busy.test", 80, began + 0.3)
        assert 0.25 <= time.monotonic() - began < 1.0
        with pytest.raises(KeyLookupError) as timed_out:
            fetch_document("http://busy.test/.well-known/jwks.json", 0.3)
        assert timed_out.value.reason == "timeout"
        # IP literals need no slot
        assert transport.resolve("127.0.0.1", 80, time.monotonic() + 1)
    finally:
        for _ in range(transport.MAX_LOOKUPS):
            transport._slots.release()


def test_a_deadline_already_past_resolves_nothing(names: dict[str, Any]) -> None:
    names["late.test"] = socket.getaddrinfo("127.0.0.1", 80, 0, socket.SOCK_STREAM)
    with pytest.raises(TimeoutError, match="JWKS fetch deadline"):
        transport.resolve("late.test", 80, time.monotonic() - 1)


def test_a_lookup_thread_that_cannot_start_gives_its_slot_back(
    names: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    names["threads.test"] = socket.getaddrinfo("127.0.0.1", 80, 0, socket.SOCK_STREAM)

    class NoThreads(threading.Thread):
        def start(self) -> None:
            raise RuntimeError("can't start new thread")

    monkeypatch.setattr(transport.threading, "Thread", NoThreads)
    for _ in range(transport.MAX_LOOKUPS + 1):  # more than the slots: none leaked
        with pytest.raises(RuntimeError, match="start new thread"):
            transport.resolve("threads.test", 80, time.monotonic() + 1)


def test_a_forked_child_starts_with_every_slot_free() -> None:
    for _ in range(transport.MAX_LOOKUPS):
        assert transport._slots.acquire(blocking=False)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads running
            pid = os.fork()
        if pid == 0:  # the child: the parent's lookups do not exist here
            os._exit(0 if free_slots() == transport.MAX_LOOKUPS else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert free_slots() == 0  # the parent's are still taken
    finally:
        for _ in range(transport.MAX_LOOKUPS):
            transport._slots.release()


def test_the_fork_handler_replaces_the_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport, "_slots", threading.BoundedSemaphore(transport.MAX_LOOKUPS))
    for _ in range(transport.MAX_LOOKUPS):
        assert transport._slots.acquire(blocking=False)
    transport._after_fork_in_child()
    assert free_slots() == transport.MAX_LOOKUPS


def test_the_deadline_socket_bounds_every_receive_and_send() -> None:
    near, far = socket.socketpair()
    try:
        wrapped = transport._DeadlineSocket(near, time.monotonic() + 5)
        far.sendall(b"abc")
        assert wrapped.recv(3) == b"abc"
        assert 0 < near.gettimeout() <= 5  # armed with the time left
        assert wrapped.fileno() == near.fileno()  # everything else is the socket's
        late = transport._DeadlineSocket(near, time.monotonic() - 1)
        far.sendall(b"more")
        for call in (lambda: late.recv(4), lambda: late.sendall(b"x")):
            with pytest.raises(TimeoutError, match="JWKS fetch deadline"):
                call()
        assert near.recv(4) == b"more"  # nothing was read past the deadline
    finally:
        near.close()
        far.close()


def test_the_socket_closes_only_when_the_response_file_is_closed_too() -> None:
    near, far = socket.socketpair()
    try:
        wrapped = transport._DeadlineSocket(near, time.monotonic() + 5)
        file = wrapped.makefile("rb")
        wrapped.close()  # as urllib does once the response is open
        far.sendall(b"body")
        assert file.read(4) == b"body" and near.fileno() != -1
        file.close()
        assert near.fileno() == -1
    finally:
        far.close()


def test_a_connection_from_a_source_address() -> None:
    with JWKSServer() as server:
        conn = transport._DeadlineHTTP("127.0.0.1", server.port, source_address=("127.0.0.1", 0))
        conn.deadline = time.monotonic() + 2
        try:
            conn.request("GET", "/.well-known/jwks.json")
            assert isinstance(conn.sock, transport._DeadlineSocket)
            assert conn.sock.getsockname()[0] == "127.0.0.1"  # bound to the source address
            response = conn.getresponse()
            assert response.status == 200 and b'"k1"' in response.read()
        finally:
            conn.close()


def test_each_address_of_a_name_is_tried_in_turn(names: dict[str, Any]) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        refused = closed.getsockname()
    with JWKSServer() as server:
        names["two.test"] = [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", refused),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", server.port)),
        ]
        document, _ = fetch_document(f"http://two.test:{server.port}/.well-known/jwks.json", 2.0)
        assert [k["kid"] for k in document["keys"]] == ["k1"]
        names["two.test"] = names["two.test"][:1]  # only the refusing one: its error
        with pytest.raises(KeyLookupError) as failed:
            fetch_document(f"http://two.test:{server.port}/.well-known/jwks.json", 2.0)
        assert failed.value.reason == "connection"


@pytest.mark.parametrize(
    ("cache_control", "age", "lifetime"),
    [
        (None, None, None),
        ("public", None, None),
        ("no-store", None, 60.0),
        ("max-age=0, no-cache", None, 60.0),
        ("public, max-age=600", None, 600.0),
        ('max-age="900"', "300", 600.0),  # quoted, minus the Age of a cache in between
        ("max-age=600", "590", 60.0),  # at least a minute
        ("max-age=99999999", None, 86400.0),  # at most a day
        ("max-age=soon", None, None),  # unreadable: the configured TTL
        ("max-age=600", "old", None),
    ],
)
def test_cache_lifetime_of_a_jwks_response(
    cache_control: str | None, age: str | None, lifetime: float | None
) -> None:
    from hardening.jwt.fetch import cache_lifetime

    assert cache_lifetime(cache_control, age) == lifetime


def test_a_success_status_other_than_200_is_refused() -> None:
    with JWKSServer() as server:
        server.status = 203
        with pytest.raises(KeyLookupError) as refused:
            fetch_document(server.url, 2.0)
        assert refused.value.reason == "http_status"
        server.status = 200
        server.headers["Cache-Control"] = "max-age=120"
        assert fetch_document(server.url, 2.0)[1] == 120.0
