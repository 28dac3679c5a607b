"""A loopback TCP proxy in front of PostgreSQL that the test can switch to "hang".

Hung means what a stuck network or a frozen server looks like to the client: the TCP
connections stay open, nothing is forwarded in either direction, and new connections are
accepted but never reach the server.  ``resume()`` forwards again (what was held back is
delivered).
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Iterator


class HangingProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.listener.settimeout(0.1)
        self.port = int(self.listener.getsockname()[1])
        self.flowing = threading.Event()
        self.flowing.set()
        self.stopped = threading.Event()
        self.sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._start(self._accept)

    def _start(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def hang(self) -> None:
        self.flowing.clear()

    def resume(self) -> None:
        self.flowing.set()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                continue
            self._start(self._open, client)

    def _open(self, client: socket.socket) -> None:
        with self._lock:
            self.sockets.append(client)
        while not self.flowing.wait(0.1):  # hung: accepted, never connected upstream
            if self.stopped.is_set():
                return
        try:
            server = socket.create_connection(self.upstream, timeout=5)
        except OSError:
            client.close()
            return
        with self._lock:
            self.sockets.append(server)
        self._start(self._pump, client, server)
        self._pump(server, client)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        while not self.stopped.is_set():
            if not self.flowing.wait(0.1):
                continue
            try:
                readable, _, _ = select.select([source], [], [], 0.1)
                if not readable or not self.flowing.is_set():
                    continue
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
            except OSError:
                break
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def stop(self) -> None:
        self.stopped.set()
        self.flowing.set()
        self.listener.close()
        with self._lock:
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.close()
        for thread in self._threads:
            thread.join(2)


@contextlib.contextmanager
def hanging_proxy(host: str, port: int) -> Iterator[HangingProxy]:
    proxy = HangingProxy((host, port))
    try:
        yield proxy
    finally:
        proxy.stop()
