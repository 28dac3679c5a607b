"""Disposable PostgreSQL clusters and Redis servers for fault tests.

Never the shared services: each instance listens on its own free loopback port, lives in
a temporary directory, and is stopped (and resumed first, if paused) when the block
ends.  As root, PostgreSQL runs as the ``postgres`` user (initdb refuses root).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TypeVar

from tests.servers import free_port, unavailable

T = TypeVar("T")


def disposable(manager: AbstractContextManager[T], what: str, package: str) -> Iterator[T]:
    """Yield the disposable service ``manager`` starts, or skip when it cannot run here
    (fail under HARDENING_TEST_REQUIRE_SERVICES=1).  For fixtures: ``yield from
    disposable(redis_server(), "Redis", "redis-server")``."""
    try:
        service = manager.__enter__()
    except FileNotFoundError as exc:
        unavailable(f"disposable {what} unavailable: {exc} (install {package})")
    try:
        yield service
    finally:
        manager.__exit__(None, None, None)


def wait_for(predicate: object, timeout: float = 15, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout}s")
        time.sleep(0.02)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def pg_bindir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def children(pid: int) -> list[int]:
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.split("/")[2]))
    return found


class PgCluster:
    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir, self.data, self.port = bindir, root / "data", free_port()
        self.log = root / "postgres.log"
        self.user: str | None = "postgres" if os.geteuid() == 0 else None
        self.paused: list[int] = []
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(root, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def database(self) -> dict[str, object]:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "postgres",
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
        }

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        wait_for(lambda: _listening(self.port), what="postgres listening")

    def stop(self) -> None:
        self.resume()
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def pause(self) -> None:
        """SIGSTOP the postmaster and every backend: connections hang, none is refused."""
        postmaster = self.postmaster_pid()
        # Stop the postmaster first so that it forks no backend after the children are listed;
        # a backend may exit between listing and signalling (a closed connection): skip it.
        os.kill(postmaster, signal.SIGSTOP)
        self.paused = [postmaster]
        for pid in children(postmaster):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
                self.paused.append(pid)

    def resume(self) -> None:
        for pid in self.paused:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self.paused = []


@contextlib.contextmanager
def pg_cluster() -> Iterator[PgCluster]:
    bindir = pg_bindir()
    if bindir is None or not (bindir / "pg_ctl").exists():
        raise FileNotFoundError("initdb/pg_ctl not found")
    with tempfile.TemporaryDirectory(prefix="hardening-health-pg-") as root:
        cluster = PgCluster(bindir, Path(root))
        cluster.init()
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.stop()


class RedisServer:
    """A private redis-server in its own directory; ``persistent`` turns on the AOF
    (``appendonly yes``, ``appendfsync everysec``) the docs recommend for bans."""

    def __init__(self, binary: str, directory: Path, *, persistent: bool = False) -> None:
        self.binary, self.port = binary, free_port()
        self.directory, self.persistent = directory, persistent
        self.process: subprocess.Popen[bytes] | None = None
        self.paused = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "everysec"]
            if self.persistent
            else ["--appendonly", "no"]
        )
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--dir", str(self.directory), *persistence, "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(lambda: _listening(self.port), what="redis listening")

    def stop(self) -> None:
        """SIGTERM (by PID; Redis flushes its AOF on the way out), bounded, then SIGKILL."""
        if self.process is None:
            return
        self.resume()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        """Stop, then start again on the same port and directory."""
        self.stop()
        self.start()

    def pause(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        if self.paused and self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)
        self.paused = False


@contextlib.contextmanager
def redis_server(*, persistent: bool = False) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError("redis-server not found")
    with tempfile.TemporaryDirectory(prefix="hardening-redis-") as directory:
        server = RedisServer(binary, Path(directory), persistent=persistent)
        server.start()
        try:
            yield server
        finally:
            server.stop()


@contextlib.contextmanager
def garbage_server() -> Iterator[int]:
    """A TCP server that answers every connection with bytes no database or cache speaks."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve_forever() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn, contextlib.suppress(OSError):
                conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n" * 4)

    thread = threading.Thread(target=serve_forever, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()
