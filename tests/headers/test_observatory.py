"""Grade the example project in production mode behind HTTPS with the MDN HTTP Observatory.

Needs the ``observe`` wrapper of the real scanner (``HARDENING_TEST_OBSERVATORY``, default
``../shared/tools/observatory/observe``) with the scanner already installed, node, openssl
and a Redis (production refuses a per-process cache).  Skipped otherwise: the test never
downloads the scanner.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.servers import BIN, ROOT, base_env, free_port, stop

pytestmark = [pytest.mark.server, pytest.mark.redis]

OBSERVE = Path(
    os.environ.get(
        "HARDENING_TEST_OBSERVATORY", ROOT.parent / "shared" / "tools" / "observatory" / "observe"
    )
)
SCANNER = Path(os.environ.get("OBSERVATORY_HOME", Path.home() / ".cache" / "observatory"))


def _skip_reason() -> str | None:
    if not OBSERVE.exists():
        return f"the observatory wrapper is not at {OBSERVE}"
    if not (SCANNER / "node_modules" / "@mdn" / "mdn-http-observatory").is_dir():
        return f"the scanner is not installed under {SCANNER} (run observe once)"
    if not shutil.which("node") or not shutil.which("openssl"):
        return "node and openssl are needed"
    return None


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int, Path]]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("observatory")
    subprocess.run([str(OBSERVE), "--make-certs", str(tmp / "tls")], check=True, timeout=60)
    http_port, https_port = free_port(), free_port()
    env = base_env(
        {
            "DJANGO_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "JWT_SIGNING_KEY": secrets.token_urlsafe(48),
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "API_KEY_HASH_KEY": secrets.token_urlsafe(48),
            "CACHE_URL": os.environ["HARDENING_TEST_REDIS_URL"],
            "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
            "METRICS_TOKEN": secrets.token_urlsafe(32),
            "SECURE_SSL_HOST": f"127.0.0.1:{https_port}",
        }
    )
    subprocess.run(
        [str(BIN / "python"), "example_project/manage.py", "migrate", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    tls = tmp / "tls"
    base = [str(BIN / "gunicorn"), "example_project.wsgi:application", "--workers", "1"]
    processes = [
        subprocess.Popen(
            [*base, "--bind", f"127.0.0.1:{http_port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(tmp / "http.log").open("wb"),
            start_new_session=True,
        ),
        subprocess.Popen(
            [*base, "--bind", f"127.0.0.1:{https_port}", "--certfile", str(tls / "server.pem")]
            + ["--keyfile", str(tls / "server.key")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(tmp / "https.log").open("wb"),
            start_new_session=True,
        ),
    ]
    try:
        _wait_for(http_port, processes, tmp)
        yield http_port, https_port, tls / "ca.pem"
    finally:
        for process in processes:
            stop(process)


def _wait_for(port: int, processes: list[subprocess.Popen[bytes]], tmp: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        for process in processes:
            if process.poll() is not None:
                logs = (tmp / "http.log").read_text() + (tmp / "https.log").read_text()
                raise RuntimeError(f"gunicorn exited:\n{logs}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2)  # noqa: S310
            return
        except urllib.error.HTTPError:
            return  # it answers (a redirect or an error page is enough)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _grade(servers: tuple[int, int, Path], path: str) -> dict[str, object]:
    http_port, https_port, ca = servers
    result = subprocess.run(
        [str(OBSERVE), "--ca", str(ca), f"http://127.0.0.1:{http_port}{path}"]
        + [f"https://127.0.0.1:{https_port}{path}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return data


@pytest.mark.parametrize("path", ["/admin/login/", "/api/me"])
def test_example_project_grades_a_plus(servers: tuple[int, int, Path], path: str) -> None:
    data = _grade(servers, path)
    assert data.get("warnings") in ([], None), data
    tests = data["tests"]
    assert isinstance(tests, dict)
    failed = {name: t["result"] for name, t in tests.items() if not t["pass"]}
    assert not failed, failed
    assert data["grade"] == "A+", data
    score = data["score"]
    assert isinstance(score, int) and score >= 130, data
    assert tests["cross-origin-resource-policy"]["result"] == "corp-implemented-with-same-origin"
    assert tests["redirection"]["result"] == "redirection-to-https"
