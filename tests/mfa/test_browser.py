"""The enrollment page in a real headless Chromium under the production CSP.

A loopback proxy adds the session cookie of a logged-in user (the Chromium command line
cannot set cookies) and forwards to pytest-django's live server.  The test fails on any
console message (a CSP violation is one), and decodes the QR code of a screenshot with
zbarimg when it is installed.  Skips when Chromium is missing
(``apt-get install chromium zbar-tools``).
"""

from __future__ import annotations

import http.client
import http.server
import shutil
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from hardening.mfa import devices
from hardening.mfa.models import TOTPDevice
from tests.servers import BROWSER_REQUIRED, required

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = required(BROWSER_REQUIRED)
ZBARIMG = shutil.which("zbarimg")
CONTROL = (
    b"<!DOCTYPE html><html><body><p style='color:red'>x</p>"
    b"<script>console.log('inline')</script></body></html>"
)

pytestmark = [
    pytest.mark.server,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        CHROMIUM is None and not REQUIRED, reason="needs chromium (apt-get install chromium)"
    ),
]


def _proxy(target: str, cookie: str) -> tuple[http.server.ThreadingHTTPServer, int]:
    parsed = urllib.parse.urlsplit(target)

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/control":  # a page that breaks the CSP: proves detection
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Security-Policy", "default-src 'self'")
                self.end_headers()
                self.wfile.write(CONTROL)
                return
            conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
            conn.request("GET", self.path, headers={"Cookie": cookie, "Accept": "text/html"})
            upstream = conn.getresponse()
            body = upstream.read()
            self.send_response(upstream.status)
            for name, value in upstream.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            conn.close()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, int(server.server_address[1])


def chromium(url: str, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    args = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        f"--user-data-dir={tmp / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        *extra,
        url,
    ]
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


def console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.fixture
def page_url(live_server: Any, django_user_model: Any) -> Iterator[tuple[str, str]]:
    user = django_user_model.objects.create_user("carol", password="x")
    device, secret = devices.create_device(user, "phone")
    client = Client()
    client.force_login(user)
    cookie = "; ".join(f"{k}={v.value}" for k, v in client.cookies.items())
    server, port = _proxy(live_server.url, cookie)
    try:
        yield f"http://127.0.0.1:{port}", devices.device_uri(device, secret)
    finally:
        server.shutdown()
        server.server_close()


def test_enrollment_page_renders_under_csp_and_qr_decodes(
    page_url: tuple[str, str], tmp_path: Path
) -> None:
    base, uri = page_url
    control = chromium(f"{base}/control", tmp_path, "--dump-dom")
    assert console_lines(control.stderr), "the console detector saw no CSP violation"

    dom = chromium(f"{base}/account/mfa/", tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert '<figure id="qr"><svg' in dom.stdout and "Scan this code" in dom.stdout
    assert console_lines(dom.stderr) == []

    shot = tmp_path / "page.png"
    run = chromium(
        f"{base}/account/mfa/", tmp_path, f"--screenshot={shot}", "--window-size=800,900"
    )
    assert shot.exists() and shot.stat().st_size > 1000, run.stderr[-2000:]
    assert console_lines(run.stderr) == []
    if ZBARIMG is None:
        if REQUIRED:
            pytest.fail("zbarimg missing (HARDENING_TEST_REQUIRE_BROWSER is set)")
        pytest.skip("zbarimg missing: page rendered, QR not decoded (apt-get install zbar-tools)")
    decoded = subprocess.run(
        [ZBARIMG, "--quiet", "--raw", str(shot)], capture_output=True, text=True, check=False
    )
    assert decoded.stdout.strip() == uri
    assert TOTPDevice.objects.get().secret in decoded.stdout
