"""The account pages in a real headless Chromium (Playwright) against a real gunicorn.

Development over HTTP: an anonymous user lands on ``/account/login/``, signs in, enrols an
authenticator, activates it, signs out, signs in again with the code step (a replayed code
is refused with "wait for the next code"), adds a second authenticator from the verified
session, regenerates the recovery codes and turns MFA off.  A user whose authenticator is
backing off gets the HTML 429 that says how many seconds to wait.  The CSRF failure page (a
form sent with a broken token) is loaded in both modes; every HTML page's ``#back`` link is
followed.  Production over HTTPS with
``MFA_REQUIRED=staff``: a staff user who signs in to the admin is sent to ``/account/mfa/``,
enrols and reaches the admin.  No page may log a CSP violation, error pages included.
TOTP codes come from pyotp and the secret the page shows.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.checks import PRODUCTION_SECRETS
from tests.mfa import browser
from tests.mfa.browser import Console, fresh_code, other_code
from tests.servers import (
    BROWSER_REQUIRED,
    ROOT,
    SERVICES_REQUIRED,
    Server,
    base_env,
    serve,
    unavailable,
)

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(browser.skip_reason() is not None, reason=str(browser.skip_reason())),
]

PASSWORD = "pw-browser-" + secrets.token_urlsafe(12)
SCREENSHOT = os.environ.get("HARDENING_MFA_SCREENSHOT", "")
MAKE_USER = (
    "from django.contrib.auth import get_user_model as g; "
    "g().objects.create_user({name!r}, password={password!r}, is_staff={staff})"
)


def _prepare(env: dict[str, str], tmp: Path, *users: tuple[str, bool]) -> None:
    browser.manage(env, "migrate", "-v0", cwd=ROOT)
    for name, staff in users:
        code = MAKE_USER.format(name=name, password=PASSWORD, staff=staff)
        browser.manage(env, "shell", "-c", code, cwd=ROOT)


# erin's one authenticator is backing off for ten minutes: her code step answers the HTML 429.
THROTTLED_DEVICE = (
    "import time; from django.contrib.auth import get_user_model as g; "
    "from hardening.mfa import devices; "
    "d, _ = devices.create_device(g().objects.get(username='erin'), 'phone'); "
    "d.confirmed = True; d.throttled_until = time.time() + 600; d.save()"
)


@pytest.fixture
def dev_server(tmp_path: Path) -> Iterator[Server]:
    extra = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    _prepare(base_env(extra), tmp_path, ("dana", False), ("erin", False))
    browser.manage(base_env(extra), "shell", "-c", THROTTLED_DEVICE, cwd=ROOT)
    with serve("gunicorn", env=extra, tmp_path=tmp_path) as server:
        yield server


def _signin(page: Any, username: str) -> None:
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#password-form button")


def _error(page: Any) -> str:
    return str(page.locator("#error").inner_text())


def _submit_code(page: Any, field: str, code: str) -> None:
    page.fill(field, code)
    page.locator(field).locator("xpath=ancestor::form").locator("button").click()


def _follow_back(page: Any, href: str) -> None:
    """The page's ``#back`` link points at ``href`` and loads a page (200)."""
    back = page.locator("#back")
    assert back.count() == 1 and back.get_attribute("href") == href
    with page.expect_navigation() as returned:
        back.click()
    assert returned.value.status == 200, returned.value.url


def _csrf_failure_and_back(page: Any, form: str) -> None:
    """Submit ``form`` with a broken CSRF token: the HTML 403 page, then its way back."""
    came_from = page.url
    token = page.locator(f"{form} input[name=csrfmiddlewaretoken]")
    token.evaluate("field => { field.value = 'broken' + field.value.slice(6); }")
    for field in page.locator(f"{form} input[required]").all():
        field.fill("csrf-test")  # else the browser's own validation keeps the form
    with page.expect_navigation() as posted:
        page.locator(f"{form} [type=submit]").click()
    assert posted.value.status == 403
    assert page.locator("h1").inner_text() == "Security check failed (CSRF)"
    assert page.evaluate("document.styleSheets[0].cssRules.length") > 5  # styled like the rest
    _follow_back(page, came_from)  # back to the form (the Referer), with a fresh token
    assert page.url == came_from and page.locator(f"{form} [type=submit]").count() == 1


def _visit_error_pages(page: Any, base: str) -> None:
    for path in ("/no/such/page", "/api/me", "/account/hardening.css"):
        page.goto(base + path)


def test_mfa_life_cycle_in_chromium(dev_server: Server, tmp_path: Path) -> None:
    base = dev_server.base
    console = Console()
    with browser.browser() as chromium:
        browser.prove_detection(chromium, console)
        page = browser.new_page(chromium, console)

        # Anonymous: the MFA page sends to a login page that exists and is styled.
        response = page.goto(base + "/account/mfa/")
        assert response is not None and response.status == 200
        assert "/account/login/?next=/account/mfa/" in page.url
        assert page.evaluate("document.styleSheets[0].cssRules.length") > 5
        assert page.evaluate("getComputedStyle(document.querySelector('main')).maxWidth") != "none"
        _csrf_failure_and_back(page, "#password-form")  # the CSRF page and its way back
        _signin(page, "dana")
        assert page.url.endswith("/account/mfa/")

        # Enrol and activate (the form POST is where Origin: null used to get a CSRF 403).
        page.click("#start button")
        secret = page.locator("#secret").inner_text().strip()
        assert page.locator("#qr svg").count() == 1
        if SCREENSHOT:
            page.set_viewport_size({"width": 760, "height": 980})
            page.screenshot(path=SCREENSHOT, full_page=True)
        code, step = fresh_code(secret, min_left=20)  # room for the replay check below
        _submit_code(page, "#confirm-code", code)
        assert page.locator("#message").inner_text() == "Two-factor authentication is on."
        first_codes = page.locator("#recovery-codes li").all_inner_texts()
        assert len(first_codes) >= 8

        # Sign out; the next login asks for the code, and a replayed code says what to do.
        page.click("#logout button")
        assert "/account/login/" in page.url
        page.goto(base + "/account/mfa/")
        _signin(page, "dana")
        assert page.locator("#login-code").count() == 1
        _submit_code(page, "#login-code", code)
        assert "Wait for the next code" in _error(page)
        code, step = fresh_code(secret, after=step)
        _submit_code(page, "#login-code", code)
        if page.locator("#error").count():  # the device back-off after the replay
            wait = int(re.search(r"Wait (\d+) second", _error(page)).group(1))  # type: ignore[union-attr]
            page.wait_for_timeout((wait + 1) * 1000)
            code, step = fresh_code(secret, after=step)
            _submit_code(page, "#login-code", code)
        assert page.url.endswith("/account/mfa/")
        assert page.locator("#manage").count() == 1

        # A second authenticator, from the verified session.
        page.fill("#add-name", "laptop")
        page.click("#manage form button")
        second = page.locator("#secret").inner_text().strip()
        assert second != secret
        _submit_code(page, "#confirm-code", fresh_code(second)[0])
        assert page.locator("#message").inner_text() == "Two-factor authentication is on."
        assert page.locator("#devices li").count() == 2

        # A wrong code tells how many attempts are left; then new recovery codes.
        code, step = fresh_code(secret, after=step)
        _submit_code(page, "#regen-code", other_code(code))
        assert re.search(r"\d+ attempts? left", _error(page)), _error(page)
        page.wait_for_timeout(2500)  # past the device back-off of one failure (1 s)
        code, step = fresh_code(secret, after=step - 1)
        _submit_code(page, "#regen-code", code)
        assert page.locator("#message").inner_text() == "New recovery codes."
        new_codes = page.locator("#recovery-codes li").all_inner_texts()
        assert new_codes and set(new_codes).isdisjoint(first_codes)

        # Turn it off with a recovery code.
        _submit_code(page, "#disable-code", new_codes[0])
        assert page.locator("#message").inner_text() == "Two-factor authentication is off."
        assert page.locator("#start").count() == 1

        _visit_error_pages(page, base)
    assert console.csp_violations() == [], console.lines


def test_throttled_code_step_says_how_long_to_wait_in_chromium(dev_server: Server) -> None:
    base = dev_server.base
    console = Console()
    with browser.browser() as chromium:
        page = browser.new_page(chromium, console)
        page.goto(base + "/account/login/")
        _signin(page, "erin")
        with page.expect_navigation() as posted:
            _submit_code(page, "#login-code", "123456")
        assert posted.value.status == 429 and 0 < int(posted.value.headers["retry-after"]) <= 600
        wait = re.fullmatch(
            r"Too many attempts\. Wait (\d+) seconds, then try again with a new code\.",
            _error(page),
        )
        assert wait is not None and 500 < int(wait.group(1)) <= 600, _error(page)
        _follow_back(page, "/")  # no next: back to the site (the JSON index)
    assert console.csp_violations() == [], console.lines


@pytest.fixture
def prod_server(tmp_path: Path) -> Iterator[Server]:
    from tests.helpers.services import redis_server

    if shutil.which("redis-server") is None:
        unavailable("needs redis-server", BROWSER_REQUIRED, SERVICES_REQUIRED)
    cert, key = browser.self_signed(tmp_path)
    with redis_server() as redis:
        extra = {
            **PRODUCTION_SECRETS,
            "ALLOWED_HOSTS": "127.0.0.1",
            "CACHE_URL": redis.url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "METRICS_TOKEN": secrets.token_urlsafe(32),
        }
        _prepare(base_env(extra), tmp_path, ("root", True))
        args = ["--certfile", str(cert), "--keyfile", str(key)]
        with serve("gunicorn", env=extra, tmp_path=tmp_path, args=args, scheme="https") as server:
            yield server


def test_staff_with_mfa_required_reaches_the_admin_over_https(prod_server: Server) -> None:
    base = prod_server.base
    console = Console()
    with browser.browser(https=True) as chromium:
        page = browser.new_page(chromium, console, https=True)
        page.goto(base + "/admin/")
        _csrf_failure_and_back(page, "#login-form")  # production CSP, HTTPS Referer
        page.fill("#id_username", "root")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        # MFA is required for staff in production: the admin sends to the MFA page.
        assert "/account/mfa/?next=%2Fadmin%2F" in page.url
        # The stylesheet loads for this not-yet-verified staff session too.
        page.wait_for_load_state("load")
        assert page.evaluate("document.styleSheets[0].cssRules.length") > 5
        with page.expect_navigation() as posted:
            page.click("#start button")  # Origin: null under <meta referrer=no-referrer>: 403
        assert posted.value.status == 200, posted.value.text()[:300]
        secret = page.locator("#secret").inner_text().strip()
        _submit_code(page, "#confirm-code", fresh_code(secret)[0])
        assert page.locator("#message").inner_text() == "Two-factor authentication is on."
        page.click("#continue")
        assert page.url == base + "/admin/"
        assert "Site administration" in page.content()
        _visit_error_pages(page, base)
    assert console.csp_violations() == [], console.lines
