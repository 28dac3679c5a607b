"""Passkeys in a real headless Chromium (Playwright) with a virtual authenticator (Chrome
DevTools Protocol ``WebAuthn.addVirtualAuthenticator``) against a real gunicorn of the
example project (development, HTTP on ``localhost``: an IP address cannot be an RP id).

Register a passkey on ``/account/mfa/``, sign out, sign in with it (passwordless), sign out,
sign in with the password and use it as the second factor (trusting the browser), sign in
again without the step once the session has ended (the trusted browser), remove it, and
sign out (``Clear-Site-Data`` drops the trust cookie too); no page may log a CSP violation
(the pages' script is a static file).  And production over HTTPS (the RP id and origin pass
the checks the WSGI entry point runs): register, then the second factor with a ``Secure``
trust cookie.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.checks import PRODUCTION_SECRETS
from tests.mfa import browser
from tests.mfa.browser import Console
from tests.servers import ROOT, Server, base_env, serve

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(browser.skip_reason() is not None, reason=str(browser.skip_reason())),
]

PASSWORD = "pw-passkey-" + secrets.token_urlsafe(12)
MAKE_USER = (
    "from django.contrib.auth import get_user_model as g; "
    f"g().objects.create_user('pat', password={PASSWORD!r})"
)


@pytest.fixture
def dev_server(tmp_path: Path) -> Iterator[Server]:
    extra = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    browser.manage(base_env(extra), "migrate", "-v0", cwd=ROOT)
    browser.manage(base_env(extra), "shell", "-c", MAKE_USER, cwd=ROOT)
    with serve("gunicorn", env=extra, tmp_path=tmp_path) as server:
        yield server


@contextlib.contextmanager
def chromium(*, https: bool = False) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        args = [*browser.ARGS, "--host-resolver-rules=MAP localhost 127.0.0.1"]
        args += ["--ignore-certificate-errors"] if https else []
        instance = pw.chromium.launch(executable_path=browser.CHROMIUM, headless=True, args=args)
        try:
            yield instance
        finally:
            instance.close()


def virtual_authenticator(page: Any) -> tuple[Any, str]:
    """A platform authenticator with resident keys and user verification, always approving."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    return cdp, str(added["authenticatorId"])


def _signin(page: Any) -> None:
    page.fill("#username", "pat")
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("#password-form button")


def _signout(page: Any) -> None:
    with page.expect_navigation():
        page.click("#logout button")
    assert "/account/login/" in page.url


def _click_and_follow(page: Any, selector: str) -> None:
    """Click a passkey button; its script navigates when the ceremony succeeded."""
    with page.expect_navigation(timeout=20_000):
        page.click(selector)


def test_passkey_life_cycle_in_chromium(dev_server: Server) -> None:
    base = f"http://localhost:{dev_server.port}"
    console = Console()
    with chromium() as instance:
        browser.prove_detection(instance, console)
        page = browser.new_page(instance, console)
        cdp, authenticator = virtual_authenticator(page)

        # Sign in with the password (no factor yet) and register a passkey on the page.
        page.goto(base + "/account/login/?next=/account/mfa/")
        _signin(page)
        assert page.url.endswith("/account/mfa/")
        assert page.locator('script[src="/account/mfa/passkeys.js"]').count() == 1
        page.fill("#passkey-name", "laptop")
        _click_and_follow(page, "#passkey-register")
        assert page.locator("#passkey-list li").all_inner_texts()[0].startswith("laptop")
        stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
        assert len(stored["credentials"]) == 1 and stored["credentials"][0]["isResidentCredential"]

        # Passwordless: sign out, then sign in with the passkey alone.
        _signout(page)
        page.goto(base + "/account/login/?next=/account/mfa/")
        _click_and_follow(page, "#passkey-login")
        assert page.url.endswith("/account/mfa/")
        assert page.locator("#passkey-list [data-passkey=remove]").count() == 1  # verified

        # The second factor: password, then the passkey, trusting this browser.
        _signout(page)
        page.goto(base + "/account/login/?next=/account/mfa/")
        _signin(page)
        assert page.locator("#passkey-verify").count() == 1
        page.check("#trust")
        _click_and_follow(page, "#passkey-verify")
        assert page.url.endswith("/account/mfa/")
        assert page.locator("#passkey-list [data-passkey=remove]").count() == 1
        cookie = next(c for c in page.context.cookies() if c["name"] == "hardening_trusted")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert page.locator("#trusted li").count() == 1

        # The session ends (expires): the trusted browser skips the step on the next login.
        kept = [c for c in page.context.cookies() if "session" not in c["name"]]
        page.context.clear_cookies()
        page.context.add_cookies(kept)
        page.goto(base + "/account/login/?next=/account/mfa/")
        _signin(page)
        assert page.url.endswith("/account/mfa/") and page.locator("#login-code").count() == 0

        # Remove the passkey: no factor is left.
        _click_and_follow(page, "#passkey-list [data-passkey=remove]")
        assert page.locator("#passkey-list").count() == 0
        assert page.locator("#start").count() == 1
        # Signing out clears the site's cookies (Clear-Site-Data), the trust cookie too.
        _signout(page)
        assert "hardening_trusted" not in [c["name"] for c in page.context.cookies()]
    assert console.csp_violations() == [], console.lines
    assert not [line for line in console.lines if "pageerror" in line], console.lines


@pytest.fixture
def prod_server(tmp_path: Path) -> Iterator[tuple[Server, int]]:
    """Production over HTTPS on localhost: the RP id and origin pass the checks, or
    ``hardening.wsgi`` would refuse to start.  gunicorn also binds a port chosen here, so
    that the origin (with its port) can be configured before the server starts."""

    from tests.helpers.services import redis_server
    from tests.servers import free_port

    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server")
    cert, key = browser.self_signed(tmp_path)
    port = free_port()
    with redis_server() as redis:
        extra = {
            **PRODUCTION_SECRETS,
            "ALLOWED_HOSTS": "localhost,127.0.0.1",
            "WEBAUTHN_RP_ID": "localhost",
            "WEBAUTHN_ORIGINS": f"https://localhost:{port}",
            "CACHE_URL": redis.url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "METRICS_TOKEN": secrets.token_urlsafe(32),
        }
        browser.manage(base_env(extra), "migrate", "-v0", cwd=ROOT)
        browser.manage(base_env(extra), "shell", "-c", MAKE_USER, cwd=ROOT)
        args = ["--certfile", str(cert), "--keyfile", str(key), "--bind", f"127.0.0.1:{port}"]
        with serve("gunicorn", env=extra, tmp_path=tmp_path, args=args, scheme="https") as server:
            yield server, port


def test_passkey_second_factor_in_production_over_https(
    prod_server: tuple[Server, int],
) -> None:
    _server, port = prod_server
    base = f"https://localhost:{port}"
    console = Console()
    with chromium(https=True) as instance:
        page = browser.new_page(instance, console, https=True)
        virtual_authenticator(page)
        page.goto(base + "/account/login/?next=/account/mfa/")
        _signin(page)
        page.fill("#passkey-name", "laptop")
        _click_and_follow(page, "#passkey-register")
        assert page.locator("#passkey-list li").count() == 1
        _signout(page)
        page.goto(base + "/account/login/?next=/account/mfa/")
        _signin(page)
        page.check("#trust")
        _click_and_follow(page, "#passkey-verify")
        assert page.url == base + "/account/mfa/"
        cookie = next(c for c in page.context.cookies() if c["name"] == "hardening_trusted")
        assert cookie["secure"] and cookie["httpOnly"]
    assert console.csp_violations() == [], console.lines
