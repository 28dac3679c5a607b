from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import override_settings

from hardening.exceptions import StartupCheckFailed
from hardening.startup import run_startup_checks
from tests.helpers.checks import (
    MANAGE,
    PRODUCTION_SECRETS,
    SAFE_PRODUCTION,
    STRONG_KEY,
    production,
)
from tests.servers import BIN, ROOT, base_env, run_until_exit, serve, stop


def test_startup_checks_pass_on_safe_production_settings() -> None:
    with production():
        run_startup_checks()


def test_startup_checks_refuse_missing_secret_with_a_readable_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with production(SECRET_KEY=""), pytest.raises(StartupCheckFailed) as info:
        run_startup_checks()
    assert "hardening.E001: SECRET_KEY is missing or empty." in str(info.value)
    assert info.value.messages and "HINT:" in info.value.messages[0]
    assert "refused to start" in capsys.readouterr().err


def test_startup_checks_ignore_warnings_and_silenced_errors() -> None:
    with production(SECRET_KEY="", SILENCED_SYSTEM_CHECKS=["hardening.E001"]):
        run_startup_checks()
    with override_settings(
        **{**SAFE_PRODUCTION, "HARDENING_ENVIRONMENT": "development", "SECRET_KEY": ""}
    ):
        run_startup_checks()  # development: warnings only


def test_fail_fast_can_be_disabled() -> None:
    with production(SECRET_KEY="", HARDENING_FAIL_FAST=False):
        run_startup_checks()


@pytest.mark.server
def test_manage_py_check_fails_in_production_without_secrets() -> None:
    result = run_until_exit([sys.executable, *MANAGE], env={"DJANGO_ENV": "production"})
    assert result.returncode != 0
    for code in ("E001", "E008", "E040", "E047", "E061"):
        assert f"hardening.{code}" in result.stderr, result.stderr


@pytest.mark.server
def test_manage_py_check_passes_in_production_with_all_secrets(tmp_path: object) -> None:
    result = run_until_exit([sys.executable, *MANAGE], env=PRODUCTION_SECRETS)
    assert result.returncode == 0, result.stderr
    assert "ERRORS" not in result.stderr


@pytest.mark.server
def test_manage_py_check_reads_secret_files(tmp_path: pytest.TempPathFactory) -> None:
    secret = tmp_path / "secret_key"  # type: ignore[operator]
    secret.write_text(STRONG_KEY + "\n")
    env = {**PRODUCTION_SECRETS, "SECRET_KEY_FILE": str(secret)}
    env.pop("SECRET_KEY")
    result = run_until_exit([sys.executable, *MANAGE], env=env)
    assert result.returncode == 0, result.stderr


@pytest.mark.server
@pytest.mark.parametrize(
    "cmd",
    [
        [str(BIN / "gunicorn"), "hardening.wsgi:application", "--bind", "127.0.0.1:0"],
        [str(BIN / "gunicorn"), "example_project.wsgi", "--bind", "127.0.0.1:0"],
        [str(BIN / "uvicorn"), "hardening.asgi:application", "--port", "0"],
    ],
    ids=["gunicorn-hardening.wsgi", "gunicorn-example", "uvicorn-hardening.asgi"],
)
def test_servers_refuse_to_boot_without_secrets(cmd: list[str]) -> None:
    result = run_until_exit(cmd, env={"DJANGO_ENV": "production"}, timeout=60)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "django-hardening refused to start" in output
    assert "hardening.E001" in output


@pytest.mark.server
@pytest.mark.parametrize(
    "cmd",
    [
        [str(BIN / "gunicorn"), "example_project.wsgi", "--bind", "127.0.0.1:0", "--workers", "2"],
        [str(BIN / "uvicorn"), "example_project.asgi:application", "--port", "0", "--workers=2"],
    ],
    ids=["gunicorn", "uvicorn"],
)
def test_servers_refuse_several_workers_without_a_multiprocess_directory(
    cmd: list[str], tmp_path: Path
) -> None:
    # The worker count comes from the server's own command line (sys.argv in the worker).
    # uvicorn's supervisor restarts a worker that fails to boot: poll its output, then stop it.
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            cmd, cwd=ROOT, env=base_env(PRODUCTION_SECRETS), stdout=sink,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            exited = process.poll() is not None  # before reading: then the log is complete
            if "refused to start" in log.read_text(errors="replace"):
                break
            assert not exited and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
    finally:
        stop(process)
    output = log.read_text(errors="replace")
    assert "hardening.E031: 2 server workers but PROMETHEUS_MULTIPROC_DIR is unset" in output


@pytest.mark.server
def test_gunicorn_serves_when_secrets_are_set(tmp_path: pytest.TempPathFactory) -> None:
    with serve(
        "gunicorn", env=PRODUCTION_SECRETS, wsgi="hardening.wsgi:application", ready_path="/api/me"
    ) as server:
        reply = server.get("/api/me")
    # Production forces HTTPS: plain HTTP is redirected before anything else runs.
    assert reply.status == 301
    assert reply.headers["location"].startswith("https://")


@pytest.mark.server
def test_example_signs_own_tokens_with_an_rs256_key_pair_from_files(
    tmp_path: pytest.TempPathFactory,
) -> None:
    """DESIGN.md's JWT_PRIVATE_KEY(_FILE) / JWT_PUBLIC_KEY(_FILE) switch the example's own
    tokens to RS256; production checks pass without JWT_SIGNING_KEY."""
    from tests.jwt.helpers import private_pem, public_pem, rsa_key

    key = rsa_key("example-rs256")
    private, public = tmp_path / "jwt_private.pem", tmp_path / "jwt_public.pem"  # type: ignore[operator]
    private.write_text(private_pem(key))
    public.write_text(public_pem(key))
    env = {
        **PRODUCTION_SECRETS,
        "JWT_PRIVATE_KEY_FILE": str(private),
        "JWT_PUBLIC_KEY_FILE": str(public),
    }
    env.pop("JWT_SIGNING_KEY")
    result = run_until_exit([sys.executable, *MANAGE], env=env)
    assert result.returncode == 0, result.stderr
    probe = (  # hardening's settings, and what simplejwt signs with (no SIMPLE_JWT copy)
        "import jwt; from hardening.jwt.conf import conf as c; "
        "from hardening.jwt.tokens import token_classes; "
        "print(c.HARDENING_JWT_ALGORITHM, "
        "c.HARDENING_JWT_SIGNING_KEY.startswith('-----BEGIN PRIVATE KEY-----'), "
        "c.HARDENING_JWT_VERIFYING_KEY.startswith('-----BEGIN PUBLIC KEY-----'), "
        "jwt.get_unverified_header(str(token_classes()[0]()))['alg'])"
    )
    shell = run_until_exit(
        [sys.executable, "example_project/manage.py", "shell", "-c", probe], env=env
    )
    assert shell.stdout.strip().splitlines()[-1].split() == ["RS256", "True", "True", "RS256"], (
        shell.stdout + shell.stderr
    )
