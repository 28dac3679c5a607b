"""Real server processes on loopback for end-to-end tests.

    with serve("gunicorn", env={"DJANGO_ENV": "production", ...}) as server:
        response = server.get("/api/me")

Starts gunicorn (sync or gthread) or uvicorn on a free 127.0.0.1 port with the example
project, polls until it answers (bounded), and always stops it.  Nothing here sleeps for
a fixed time: every wait polls with a deadline.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SERVICES_REQUIRED = "HARDENING_TEST_REQUIRE_SERVICES"
BROWSER_REQUIRED = "HARDENING_TEST_REQUIRE_BROWSER"


def required(variable: str) -> bool:
    """``variable`` (set by ``.ci/run``) says a missing tool fails the test, not skips it."""
    return os.environ.get(variable, "") not in ("", "0", "false")


def unavailable(reason: str, *variables: str) -> NoReturn:
    """Skip for a missing tool (``reason``), or fail when one of ``variables`` is set
    (default ``HARDENING_TEST_REQUIRE_SERVICES``): in CI a missing tool is not a pass."""
    for variable in variables or (SERVICES_REQUIRED,):
        if required(variable):
            pytest.fail(f"{reason} ({variable} is set)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        import json

        return json.loads(self.body)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    scheme: str = "http"
    base: str = field(init=False)

    def __post_init__(self) -> None:
        self.base = f"{self.scheme}://127.0.0.1:{self.port}"

    def request(
        self,
        path: str,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        data: bytes | None = None,
        timeout: float = 10,
    ) -> Reply:
        req = urllib.request.Request(  # loopback only
            self.base + path, method=method, headers=dict(headers or {}), data=data
        )
        try:
            with _opener().open(req, timeout=timeout) as resp:
                return Reply(
                    resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
                )
        except urllib.error.HTTPError as err:
            return Reply(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())

    def get(self, path: str, **kwargs: object) -> Reply:
        return self.request(path, **kwargs)  # type: ignore[arg-type]

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@functools.cache
def _opener() -> urllib.request.OpenerDirector:
    """One opener per process: ``ssl.create_default_context()`` loads the system's CA
    certificates (about 25 ms), and building it per request put that into every figure of
    bench/health_bench.py (a /health/live p50 of 27 ms)."""
    import ssl

    # Loopback test servers use self-signed certificates.
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    return urllib.request.build_opener(_NoRedirect, urllib.request.HTTPSHandler(context=insecure))


def command(
    kind: str,
    port: int,
    *,
    wsgi: str,
    asgi: str,
    workers: int,
    timeout: int,
    host: str = "127.0.0.1",
) -> list[str]:
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if kind in ("gunicorn", "gthread"):
        cmd = [
            str(BIN / "gunicorn"),
            wsgi,
            "--bind",
            bind,
            "--workers",
            str(workers),
            "--timeout",
            str(timeout),
            "--graceful-timeout",
            "5",
        ]
        if kind == "gthread":
            cmd += ["--worker-class", "gthread", "--threads", "4"]
        return cmd
    if kind == "runserver":  # Django's development server, one process, no autoreloader
        return [sys.executable, "example_project/manage.py", "runserver", "--noreload", bind]
    if kind == "uvicorn":
        return [
            str(BIN / "uvicorn"),
            asgi,
            "--host",
            host,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
        ]
    raise ValueError(kind)


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "HARDENING_TEST"))}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "example_project.settings",
            "DJANGO_ENV": "development",
            "DEBUG": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


@contextlib.contextmanager
def serve(
    kind: str = "gunicorn",
    *,
    env: Mapping[str, str] | None = None,
    wsgi: str = "example_project.wsgi:application",
    asgi: str = "example_project.asgi:application",
    workers: int = 1,
    timeout: int = 30,
    ready_path: str = "/api/me",
    startup_timeout: float = 30,
    tmp_path: Path | None = None,
    host: str = "127.0.0.1",
    args: list[str] | None = None,
    scheme: str = "http",
) -> Iterator[Server]:
    """Run a server until the block ends; raise if it does not answer within the bound.

    ``host="::"`` binds dual-stack (IPv4 clients then arrive as ``::ffff:a.b.c.d``); the
    server is still reached over 127.0.0.1."""
    port = free_port()
    log_dir = tmp_path or Path(os.environ.get("TMPDIR", "/tmp"))
    log = log_dir / f"server-{kind}-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                *command(
                    kind, port, wsgi=wsgi, asgi=asgi, workers=workers, timeout=timeout, host=host
                ),
                *(args or []),
            ],
            cwd=ROOT,
            env=base_env(env),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(process, port, log, scheme)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{kind} exited with {process.returncode}:\n{server.output()}")
            try:
                server.get(ready_path, timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{kind} did not answer:\n{server.output()}") from None
                time.sleep(0.05)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)


def run_until_exit(
    cmd: list[str], *, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a command that is expected to exit by itself (bounded)."""
    return subprocess.run(
        cmd,
        cwd=ROOT,
        env=base_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
