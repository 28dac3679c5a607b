"""The Swagger UI of the example (/api-docs/) renders in a real Chromium under hardening's
strict CSP: no 'unsafe-inline' anywhere in the policy, styles and scripts 'self' only; the
operations appear, "Try it out", "Execute" and the "Authorize" dialog work, the page's own
styles apply, and the console shows no CSP violation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mfa.browser import Console, browser, new_page, prove_detection, skip_reason

pytest.importorskip("drf_spectacular_sidecar")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or ""),
]

#: Every violation the page reports, with where it came from (the console names fewer).
VIOLATIONS = """window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(
    `${e.effectiveDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));"""


def test_swagger_ui_renders_under_the_strict_csp(live_server: Any, settings: Any) -> None:
    settings.HARDENING_RATELIMIT_ENABLED = False
    console = Console()
    with browser() as instance:
        prove_detection(instance, console)
        page = new_page(instance, console)
        page.add_init_script(VIOLATIONS)
        response = page.goto(live_server.url + "/api-docs/")
        assert response is not None and response.status == 200
        csp = response.headers["content-security-policy"]
        assert csp.startswith("default-src 'self'"), csp
        assert "unsafe-inline" not in csp and "unsafe" not in csp, csp
        assert "script-src" not in csp and "style-src" not in csp, csp  # both 'self' only
        page.wait_for_selector(".opblock", timeout=15_000)
        operations = page.locator(".opblock").count()
        # The page's own rules (a static stylesheet, not an inline <style>) apply.
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        # Exercise what renders later: an operation, "Try it out", "Execute" (a response
        # with highlighted JSON), the "Authorize" dialog.
        page.locator(".opblock-post .opblock-summary").first.click()
        page.locator("button.try-out__btn").first.click()
        page.locator("button.execute").first.click()
        page.wait_for_selector(".responses-wrapper .live-responses-table", timeout=15_000)
        page.locator("button.authorize").first.click()
        page.wait_for_selector(".modal-ux", timeout=15_000)
        page.wait_for_timeout(300)  # late violations (styles applied after render)
        reported = page.evaluate("window.__violations")
    assert reported == [], reported
    assert operations >= 10
    assert background == "rgb(250, 250, 250)"
    assert console.csp_violations() == [], console.lines
