"""docs/quickstart.md, as a new user follows it: built wheel, new venv, startproject.

Builds the sdist-free wheel of this checkout, installs it into a new virtual environment,
runs ``django-admin startproject mysite``, applies exactly the code blocks of
docs/quickstart.md (tests/quickstart_blocks.py) and checks what the page claims, ending with
a real gunicorn on a private PostgreSQL and Redis.  Slow (about a minute): deselected by
default, run by ``.ci/run`` (``pytest -m slow``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import quickstart_blocks
from tests.servers import ROOT, Reply, Server, free_port, stop, unavailable

pytestmark = [pytest.mark.slow, pytest.mark.server]

DOC = ROOT / "docs" / "quickstart.md"
PASSWORD = "pw-quickstart-0123456789"
PROXY = {"X-Forwarded-Proto": "https"}  # BEHIND_PROXY=true: TLS ends at the proxy


@dataclass
class Project:
    venv: Path
    path: Path
    production: dict[str, str]

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        keep = {k: os.environ[k] for k in ("HOME", "TMPDIR", "LANG") if k in os.environ}
        return {"PATH": f"{self.venv / 'bin'}:/usr/bin:/bin", **keep, **(extra or {})}

    def manage(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / "python"), "manage.py", *args],
            cwd=self.path,
            env=self.env(env),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def _run(*cmd: str, cwd: Path | None = None, timeout: float = 300) -> None:
    result = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, (
        f"{' '.join(cmd)}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    tmp = tmp_path_factory.mktemp("quickstart")
    wheel_dir = Path(os.environ.get("HARDENING_QUICKSTART_WHEEL_DIR", "") or tmp / "dist")
    if not list(wheel_dir.glob("*.whl")):
        if importlib.util.find_spec("build") is None:
            unavailable("needs build (pip install --group release)")
        _run(sys.executable, "-m", "build", "--wheel", "--outdir", str(wheel_dir), str(ROOT))
    (wheel,) = wheel_dir.glob("django_hardening-*.whl")
    venv = tmp / "venv"
    _run(sys.executable, "-m", "venv", str(venv))
    _run(str(venv / "bin" / "pip"), "install", "-q", f"{wheel}[server,redis,postgres]")
    _run(str(venv / "bin" / "django-admin"), "startproject", "mysite", cwd=tmp)
    markdown = DOC.read_text()
    touched = quickstart_blocks.apply(markdown, tmp / "mysite")  # refuses a block it cannot sort
    page = quickstart_blocks.parse(markdown)
    assert touched == [block.path for block in page.blocks], touched  # every one applied
    assert page.fences == len(page.blocks) + 1 + len(page.illustrations)
    assert touched[:2] == ["mysite/settings.py", "mysite/urls.py"], touched
    project = Project(venv, tmp / "mysite", {})
    # The installed package is the wheel's, not this checkout's.
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import hardening; print(hardening.__file__)"],
        capture_output=True, text=True, check=True, cwd=project.path, env=project.env(),
    ).stdout  # fmt: skip
    assert str(venv) in where and str(ROOT) not in where
    project.production = quickstart_blocks.production_environment(markdown, venv / "bin")
    return project


def test_development_check_has_no_errors(project: Project) -> None:
    result = project.manage("check", env={"DJANGO_ENV": "development"})
    assert result.returncode == 0, result.stderr
    assert "ERRORS:" not in result.stdout + result.stderr


def test_production_without_secrets_lists_the_hardening_errors(project: Project) -> None:
    result = project.manage("check")  # DJANGO_ENV unset: production (fail safe)
    assert result.returncode != 0
    for code in ("E001", "E008", "E040", "E047", "E061"):
        assert f"hardening.{code}" in result.stderr, result.stderr


def test_production_with_the_documented_variables_has_0_issues(project: Project) -> None:
    result = project.manage("check", env=project.production)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.fixture
def served(project: Project, tmp_path: Path) -> Iterator[tuple[Server, object]]:
    from tests.helpers.services import pg_cluster, redis_server

    if shutil.which("redis-server") is None:
        unavailable("needs redis-server")
    try:
        pg = pg_cluster()
        cluster = pg.__enter__()
    except FileNotFoundError as exc:
        unavailable(f"needs PostgreSQL's initdb/pg_ctl: {exc}")
    try:
        with redis_server() as redis:
            env = {
                **project.production,
                "DATABASE_URL": cluster.url,
                "CACHE_URL": redis.url,
                "ALLOWED_HOSTS": "127.0.0.1",
                # Long enough for a password check (PBKDF2) on a loaded CI machine.
                "REQUEST_TIMEOUT": "5",
            }
            migrated = project.manage("migrate", "-v0", env=env)
            assert migrated.returncode == 0, migrated.stderr
            make_user = (
                "from django.contrib.auth import get_user_model as g; "
                f"g().objects.create_user('alice', password={PASSWORD!r})"
            )
            assert project.manage("shell", "-c", make_user, env=env).returncode == 0
            port = free_port()
            log = tmp_path / "gunicorn.log"
            with log.open("wb") as sink:
                process = subprocess.Popen(
                    [str(project.venv / "bin" / "gunicorn"), "mysite.wsgi", "--bind",
                     f"127.0.0.1:{port}", "--workers", "1", "--timeout", "30"],
                    cwd=project.path, env=project.env(env), stdout=sink,
                    stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
            server = Server(process, port, log)
            try:
                deadline = time.monotonic() + 30
                while True:
                    assert process.poll() is None, server.output()
                    try:
                        server.get("/health/live", timeout=2)
                        break
                    except OSError:
                        assert time.monotonic() < deadline, server.output()
                        time.sleep(0.05)
                yield server, cluster
            finally:
                stop(process)
    finally:
        pg.__exit__(None, None, None)


def _call(
    server: Server, path: str, method: str = "GET", token: str = "", body: object = None
) -> Reply:
    headers = dict(PROXY)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body).encode()
    return server.request(path, method=method, headers=headers, data=data, timeout=15)


def test_gunicorn_serves_the_quickstart_project(
    served: tuple[Server, object], project: Project
) -> None:
    server, cluster = served
    # An own JWT, used on the project's view; a bearer POST (no CSRF 403).
    login = _call(
        server, "/api/auth/token", "POST", body={"username": "alice", "password": PASSWORD}
    )
    assert login.status == 200, login.body
    access = login.json()["access"]  # type: ignore[index]
    hello = _call(server, "/api/hello", token=access)
    assert hello.status == 200 and hello.json() == {"user": "alice", "data": None}, hello.body
    posted = _call(server, "/api/hello", "POST", token=access, body={"x": 1})
    assert posted.status == 200 and posted.json() == {"user": "alice", "data": {"x": 1}}, (
        posted.body
    )
    # A bad bearer token is a 401 naming it, also on the AllowAny view (never anonymous).
    forged = access[:-4] + ("AAAA" if not access.endswith("AAAA") else "BBBB")
    for path in ("/api/hello", "/api/public"):
        bad = _call(server, path, token=forged)
        assert bad.status == 401, (path, bad.body)
        assert bad.json()["error"] == "invalid_token", bad.body  # type: ignore[index]
        challenge = bad.headers["www-authenticate"]
        assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge
    assert _call(server, "/api/public").json() == {"user": None}  # anonymous without a token
    assert _call(server, "/api/public", token=access).json() == {"user": "alice"}
    assert _call(server, "/api/hello").status == 401
    # The slow view (up to 60 s of work) stops at the 5 s deadline with a 504.
    started = time.monotonic()
    slow = _call(server, "/api/slow", token=access)
    assert slow.status == 504, slow.body
    assert 4.5 < time.monotonic() - started < 15
    # /metrics needs the token.
    assert _call(server, "/metrics").status in (401, 403)
    metrics = _call(server, "/metrics", token=project.production["METRICS_TOKEN"])
    assert metrics.status == 200 and b"django_http_requests" in metrics.body
    # Login attempts are rate limited: 10 POSTs a minute per address, then 429.  A new
    # username each time, so the per-account lockout (5 failures) is not what answers.
    replies = [
        _call(server, "/api/auth/token", "POST", body={"username": f"u{i}", "password": "x"})
        for i in range(12)
    ]
    limited = [r for r in replies if r.status == 429]
    assert limited, [r.status for r in replies]
    assert limited[0].json()["error"] == "rate_limited", limited[0].body  # type: ignore[index]
    assert int(limited[0].headers["retry-after"]) > 0
    # Readiness follows the database.
    assert _call(server, "/health/ready").status == 200
    cluster.stop()  # type: ignore[attr-defined]
    deadline = time.monotonic() + 20
    while (ready := _call(server, "/health/ready")).status == 200:
        assert time.monotonic() < deadline, "readiness never saw the database go down"
        time.sleep(0.2)
    assert ready.status == 503, ready.body
