"""Helpers for the Playwright tests: Debian's Chromium, CSP console watch, TOTP timing.

Every wait is bounded; none is an assertion by itself.
"""

from __future__ import annotations

import contextlib
import datetime
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import BROWSER_REQUIRED, required

CHROMIUM = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PERIOD = 30


#: Set by .ci/run: a missing browser is a failure there, not a skip.
REQUIRED = required(BROWSER_REQUIRED)


def skip_reason() -> str | None:
    if REQUIRED:
        return None  # run, and fail loudly if Chromium or Playwright is missing
    if CHROMIUM is None:
        return "needs chromium (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "needs playwright (pip install playwright)"
    return None


class Console:
    """Every console message and page error of every page of a browser context."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def watch(self, page: Any) -> None:
        page.on("console", lambda msg: self.lines.append(f"{msg.type}: {msg.text}"))
        page.on("pageerror", lambda exc: self.lines.append(f"pageerror: {exc}"))

    def csp_violations(self) -> list[str]:
        return [line for line in self.lines if "Content Security Policy" in line]


@contextlib.contextmanager
def browser(*, https: bool = False) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        extra = ["--ignore-certificate-errors"] if https else []
        instance = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS + extra)
        try:
            yield instance
        finally:
            instance.close()


def new_page(instance: Any, console: Console, *, https: bool = False) -> Any:
    context = instance.new_context(ignore_https_errors=https)
    page = context.new_page()
    page.set_default_timeout(15_000)
    console.watch(page)
    return page


def prove_detection(instance: Any, console: Console) -> None:
    """A page that breaks a CSP must show up in the console watch (else the watch is blind)."""
    page = new_page(instance, console)
    page.route(
        "http://control.invalid/",
        lambda route: route.fulfill(
            status=200,
            headers={"Content-Security-Policy": "default-src 'self'", "Content-Type": "text/html"},
            body="<p style='color:red'>x</p><script>console.log('inline')</script>",
        ),
    )
    page.goto("http://control.invalid/")
    deadline = time.monotonic() + 5
    while not console.csp_violations() and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert console.csp_violations(), "the console watch saw no CSP violation"
    console.lines.clear()
    page.context.close()


def step_now() -> int:
    return int(time.time() // PERIOD)


def fresh_code(secret: str, *, after: int = -1, min_left: float = 3) -> tuple[str, int]:
    """A TOTP code of a time step later than ``after`` with ``min_left`` seconds to run
    (so the step cannot roll over between computing the code and the server checking it)."""
    import pyotp

    deadline = time.monotonic() + 2 * PERIOD + 5
    while True:
        now = time.time()
        step = int(now // PERIOD)
        left = (step + 1) * PERIOD - now
        if step > after and left >= min_left:
            return pyotp.TOTP(secret, interval=PERIOD).at(now), step
        assert time.monotonic() < deadline, "no fresh TOTP step in time"
        time.sleep(0.2)


def other_code(code: str) -> str:
    """A six-digit code that is not ``code``."""
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, made with ``cryptography``."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def manage(env: dict[str, str], *args: str, cwd: Path) -> None:
    """Run ``example_project/manage.py`` (bounded); fail with its output."""
    result = subprocess.run(
        [sys.executable, "example_project/manage.py", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
