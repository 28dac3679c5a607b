"""The JWKS fetch's transport: one total deadline over name resolution, connect, TLS,
headers and body, and no redirects.

* urllib's ``timeout`` applies to each socket operation, so a server that sends one byte
  every 0.5 s would never trip it (measured: > 120 s for one fetch); here every receive
  waits at most for the time left (``_DeadlineSocket``).
* ``getaddrinfo`` takes no timeout at all (a hung resolver holds the caller for the
  system resolver's own timeouts and retries, 5 s x attempts by default), so names are
  resolved on a helper thread that the fetch waits for only until the deadline.  At most
  ``MAX_LOOKUPS`` lookups run at once per process; a lookup that outlives its fetch
  finishes (or fails) on its own, and a fetch that finds every slot taken waits for one
  within its deadline.  IP literals are not looked up.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import threading
import time
import urllib.request
from typing import Any

#: Name lookups in flight at once per process (each on its own helper thread).
MAX_LOOKUPS = 4

_slots = threading.BoundedSemaphore(MAX_LOOKUPS)

AddrInfo = tuple[Any, Any, Any, Any, Any]


def _left(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("JWKS fetch deadline")
    return remaining


def resolve(host: str, port: int, deadline: float) -> list[AddrInfo]:
    """``getaddrinfo(host, port)`` for TCP, within ``deadline`` (``TimeoutError``)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:  # a literal: no lookup, no thread
        return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    slots = _slots
    if not slots.acquire(timeout=_left(deadline)):
        raise TimeoutError("JWKS name resolution: every lookup slot is taken")
    answer: list[Any] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            answer.append(socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM))
        except Exception as exc:  # noqa: BLE001 - handed to the waiting fetch
            answer.append(exc)
        finally:
            slots.release()
            done.set()

    try:
        threading.Thread(target=lookup, name="hardening-jwks-resolve", daemon=True).start()
    except RuntimeError:
        slots.release()
        raise
    if not done.wait(_left(deadline)) or not answer:
        raise TimeoutError("JWKS name resolution deadline")
    if isinstance(answer[0], Exception):
        raise answer[0]
    return list(answer[0])


def _after_fork_in_child() -> None:
    """Lookup threads of the parent do not exist in a child: all slots are free."""
    global _slots
    _slots = threading.BoundedSemaphore(MAX_LOOKUPS)


if hasattr(os, "register_at_fork"):  # pragma: no branch - every POSIX Python has it
    os.register_at_fork(after_in_child=_after_fork_in_child)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError for the 3xx


class _DeadlineSocket:
    """A connected socket whose every receive waits at most until ``deadline``."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock, self._deadline = sock, deadline
        self._io_refs, self._closed = 0, False

    def _arm(self) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("JWKS fetch deadline")
        self._sock.settimeout(remaining)

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        self._arm()
        return self._sock.recv_into(buffer, nbytes, flags)

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        self._arm()
        return self._sock.recv(bufsize, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        self._arm()
        self._sock.sendall(data, flags)

    # urllib closes the connection's socket as soon as the response is open; like
    # socket.socket, the real close waits until the response's file is closed too.
    def makefile(self, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        return socket.socket.makefile(self, mode, *args, **kwargs)  # type: ignore[call-overload]

    def _decref_socketios(self) -> None:
        self._io_refs -= 1
        if self._closed and self._io_refs <= 0:
            self._sock.close()

    def close(self) -> None:
        self._closed = True
        if self._io_refs <= 0:
            self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _DeadlineHTTP(http.client.HTTPConnection):
    deadline = 0.0  # set by the handler, per fetch

    def connect(self) -> None:
        self.timeout = max(0.001, self.deadline - time.monotonic())
        self._create_connection = self._connect
        super().connect()  # TCP (and, for HTTPS, the TLS handshake) within the time left
        self.sock = _DeadlineSocket(self.sock, self.deadline)

    def _connect(
        self, address: tuple[str, int], timeout: Any = None, source: Any = None
    ) -> socket.socket:
        """``socket.create_connection`` with the lookup and each attempt in the deadline."""
        error: OSError = OSError("no address")
        for family, kind, proto, _, sockaddr in resolve(*address, self.deadline):
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(_left(self.deadline))
                if source:
                    sock.bind(source)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                sock.close()
                error = exc
        raise error


class _DeadlineHTTPS(_DeadlineHTTP, http.client.HTTPSConnection):
    pass


class _DeadlineHandler(urllib.request.HTTPHandler, urllib.request.HTTPSHandler):
    def __init__(self, deadline: float) -> None:
        urllib.request.HTTPHandler.__init__(self)
        urllib.request.HTTPSHandler.__init__(self)
        self.deadline = deadline

    def _factory(self, cls: type[_DeadlineHTTP]) -> Any:
        def connection(*args: Any, **kwargs: Any) -> _DeadlineHTTP:
            conn = cls(*args, **kwargs)
            conn.deadline = self.deadline
            return conn

        return connection

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._factory(_DeadlineHTTP), req)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        context = self._context  # type: ignore[attr-defined]
        return self.do_open(self._factory(_DeadlineHTTPS), req, context=context)


def deadline_opener(deadline: float) -> urllib.request.OpenerDirector:
    """A urllib opener whose requests end by ``deadline`` (monotonic) and never redirect."""
    return urllib.request.build_opener(_NoRedirect, _DeadlineHandler(deadline))


class BodyTooLarge(Exception):
    """A response body went past the reader's limit."""


def read_body(response: Any, deadline: float, limit: int) -> bytes:
    """The body of an opened response, read in chunks until ``deadline`` (monotonic,
    ``TimeoutError`` after it) and at most ``limit`` bytes (``BodyTooLarge``)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError("response body deadline")
        chunk = response.read1(16384)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
