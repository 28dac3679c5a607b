"""The Swagger UI of the example (/api-docs/) renders in a real Chromium under hardening's
strict CSP: the operations appear, and the console shows no CSP violation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mfa.browser import Console, browser, new_page, prove_detection, skip_reason

pytest.importorskip("drf_spectacular_sidecar")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or ""),
]


def test_swagger_ui_renders_under_the_strict_csp(live_server: Any, settings: Any) -> None:
    settings.HARDENING_RATELIMIT_ENABLED = False
    console = Console()
    with browser() as instance:
        prove_detection(instance, console)
        page = new_page(instance, console)
        response = page.goto(live_server.url + "/api-docs/")
        assert response is not None and response.status == 200
        csp = response.headers["content-security-policy"]
        assert csp.startswith("default-src 'self'") and "script-src" not in csp
        page.wait_for_selector(".opblock", timeout=15_000)
        operations = page.locator(".opblock").count()
        page.wait_for_timeout(300)  # late violations (styles applied after render)
    assert operations >= 10
    assert console.csp_violations() == [], console.lines
