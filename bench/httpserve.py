"""gunicorn servers for ``bench/run.py``: start one per variant on a free loopback port,
wait for it (bounded), smoke-test it and stop it (the whole process group)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from common import BENCH, PYTHON, loud

GUNICORN = str(Path(PYTHON).parent / "gunicorn")
HARDENING_HEADERS = (
    "x-request-id",
    "content-security-policy",
    "permissions-policy",
    "cross-origin-resource-policy",
    "cache-control",
    "x-content-type-options",
    "strict-transport-security",
)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)  # loopback only
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


class Server:
    def __init__(self, variant: str, env: dict[str, str], workers: int, logdir: Path) -> None:
        self.variant = variant
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/ping"
        self.log = logdir / f"gunicorn-{variant}.log"
        self.launch(self.command(workers), env)

    def command(self, workers: int) -> list[str]:
        return [
            GUNICORN,
            "benchproj.wsgi:application",
            "-w",
            str(workers),
            "-k",
            "sync",
            "-b",
            f"127.0.0.1:{self.port}",
            "--log-level",
            "warning",
            "--timeout",
            "60",
        ]

    def launch(self, cmd: list[str], env: dict[str, str]) -> None:
        with self.log.open("wb") as sink:
            self.process = subprocess.Popen(
                cmd,
                cwd=BENCH,
                env={**os.environ, **env},
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait(self, headers: dict[str, str], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.variant} server exited:\n{self.log.read_text()}")
            try:
                status, _, body = get(self.url, headers)
                if status == 200:
                    return
                raise RuntimeError(
                    f"{self.variant}: {status} {body[:300]!r}\n{self.log.read_text()}"
                )
            except OSError:
                if time.monotonic() > deadline:
                    log_text = self.log.read_text()
                    raise RuntimeError(f"{self.variant} did not answer:\n{log_text}") from None
                time.sleep(0.1)

    def stop(self) -> None:

        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


def smoke(server: Server, headers: dict[str, str]) -> dict[str, Any]:
    """200 with the token; 401 without and with a bad one; which headers are sent."""
    status, resp_headers, body = get(server.url, headers)
    out: dict[str, Any] = {"status": status, "body": body.decode(errors="replace")[:100]}
    out["headers"] = sorted(h for h in HARDENING_HEADERS if h in resp_headers)
    if server.variant != "bare":
        base = {k: v for k, v in headers.items() if k != "Authorization"}
        out["no_token"] = get(server.url, base)[0]
        out["bad_token"] = get(server.url, {**base, "Authorization": "Bearer x.y.z"})[0]
    ok = status == 200 and out.get("no_token", 401) == 401 and out.get("bad_token", 401) == 401
    out["ok"] = ok
    if not ok:
        loud(f"SMOKE TEST FAILED for {server.variant}: {out}")
    return out
