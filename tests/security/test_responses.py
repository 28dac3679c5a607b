"""Issue 12 item 9: CSRF failures answer JSON on API paths and a CSP-clean page in browsers,
session logout sends ``Clear-Site-Data``, every response sends
``X-Permitted-Cross-Domain-Policies: none``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory

from hardening.errors import csrf_failure

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_limits(settings: Any) -> None:
    settings.HARDENING_RATELIMIT_ENABLED = False
    settings.HARDENING_MFA_REQUIRED = "off"


def logged_in(client: Client) -> Any:
    user = get_user_model().objects.create_user("resp-user", password="unused-pw", is_staff=True)
    client.force_login(user)
    return user


def test_csrf_failure_on_an_api_path_is_json(events: list[tuple[str, dict[str, Any]]]) -> None:
    client = Client(enforce_csrf_checks=True)
    logged_in(client)
    response = client.post("/api/slow", {"ms": "1"})
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["error"] == "csrf_failed" and "request_id" in body
    assert ("request.rejected", {"reason": "csrf"}) in [
        (event, {"reason": fields.get("reason")}) for event, fields in events
    ]


def test_csrf_failure_in_a_browser_is_a_csp_clean_page() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/admin/login/",
        {"username": "x", "password": "y"},
        headers={"Accept": "text/html,application/xhtml+xml"},
    )
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "<style" not in page and "<script" not in page and " style=" not in page
    assert " on" not in page.split("<body", 1)[1].split(">", 1)[0]  # no inline handlers
    assert "CSRF" in page or "security check" in page
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp


@pytest.mark.parametrize(
    ("referer", "back"),
    [
        (
            "http://testserver/admin/login/?next=/admin/",
            "http://testserver/admin/login/?next=/admin/",
        ),
        ("https://evil.example/phish", "/"),  # another site: never linked
        ("javascript:alert(1)", "/"),
        (None, "/"),
    ],
)
def test_the_csrf_failure_page_has_a_way_back(
    referer: str | None, back: str, settings: Any
) -> None:
    client = Client(enforce_csrf_checks=True)
    headers = {"Accept": "text/html"}
    if referer is not None:
        headers["Referer"] = referer
    response = client.post("/admin/login/", {"username": "x"}, headers=headers)
    assert response.status_code == 403
    page = response.content.decode()
    assert f'<a id="back" href="{back}">' in page, page
    assert '<link rel="stylesheet" href="/account/hardening.css">' in page  # the pages' style
    settings.ROOT_URLCONF = "tests.mfa.urls_without_mfa"  # no stylesheet URL: still a page
    response = csrf_failure(RequestFactory().post("/a/form", headers=headers))
    page = response.content.decode()
    assert response.status_code == 403 and f'<a id="back" href="{back}">' in page
    assert "stylesheet" not in page


def test_session_logout_clears_site_data(client: Client) -> None:
    logged_in(client)
    assert "Clear-Site-Data" not in client.get("/api/me")
    response = client.post("/admin/logout/")
    assert response.status_code in (200, 302)
    assert response["Clear-Site-Data"] == '"cache", "cookies", "storage"'
    assert "Clear-Site-Data" not in client.get("/api/me")


def test_x_permitted_cross_domain_policies_everywhere(client: Client) -> None:
    for path in ("/api/me", "/admin/login/", "/health/live", "/nowhere"):
        assert client.get(path)["X-Permitted-Cross-Domain-Policies"] == "none", path


def test_the_example_wires_the_csrf_failure_view(settings: Any) -> None:
    assert settings.CSRF_FAILURE_VIEW == "hardening.errors.csrf_failure"


def test_every_test_named_in_the_security_model_exists() -> None:
    """docs/security.md names the test of each defence; each must exist."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    text = (root / "docs" / "security.md").read_text()
    missing: list[str] = []
    current = None  # "::name" refers to the file named last ("same tests" rows too)
    for row in (line for line in text.splitlines() if line.startswith("| ")):
        for path, name in re.findall(r"`(tests/[\w/]+\.py)?::(\w+)`", row):
            current = path or current
            assert current, row
            source = (root / current).read_text()
            if not re.search(rf"^(async )?def {name}\b", source, re.MULTILINE):
                missing.append(f"{current}::{name}")
    assert missing == []
