"""manage.py hardening_report: the score, one finding per problem with its fix, the JSON form
and the CI gate (hardening.deploy.report)."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from hardening.deploy.report import EXPECTED_HEADERS, WEIGHTS
from tests.helpers.checks import production

pytestmark = pytest.mark.django_db

LOCAL_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


def report(*args: str, **changes: object) -> dict[str, Any]:
    out = StringIO()
    changes.setdefault("CACHES", LOCAL_CACHE)
    with production(**changes):
        call_command("hardening_report", "--format", "json", *args, stdout=out)
    data = json.loads(out.getvalue())
    assert isinstance(data, dict)
    return data


def ids(data: dict[str, Any]) -> set[str]:
    findings = data["findings"]
    assert isinstance(findings, list)
    return {f["id"] for f in findings}


def test_a_safe_deployment_scores_high_and_each_part_is_reported() -> None:
    from django.core.checks import WARNING, run_checks

    changes = {"SECURE_HSTS_INCLUDE_SUBDOMAINS": True, "SECURE_HSTS_PRELOAD": True}
    data = report(**changes)
    assert data["max"] == 100 and set(data["categories"]) == set(WEIGHTS)
    categories = data["categories"]
    for part in ("secrets", "headers", "services", "mfa"):
        assert categories[part]["score"] == WEIGHTS[part], (part, data["findings"])
    # The checks part is exactly what the system checks say (here: the test settings'
    # per-process cache and SQLite), one finding per message.
    with production(CACHES=LOCAL_CACHE, **changes):
        expected = {m.id for m in run_checks(include_deployment_checks=True) if m.level >= WARNING}
    assert ids(data) == expected
    assert "hardening.E061" in expected and isinstance(data["score"], int)
    assert data["score"] == round(sum(c["score"] for c in categories.values()))


def test_each_problem_is_a_line_with_its_fix_and_costs_points() -> None:
    safe = report()
    bad = report(DEBUG=True, SECRET_KEY="django-insecure-" + "k" * 40)
    assert {"hardening.E007", "hardening.E004"} <= ids(bad)
    assert "security.W018" not in ids(bad)  # one line per problem (Django's is a duplicate)
    findings = {f["id"]: f for f in bad["findings"]}
    assert findings["hardening.E004"]["category"] == "secrets"
    assert findings["hardening.E007"]["fix"].startswith("DEBUG leaks")
    assert bad["categories"]["secrets"]["score"] == 0
    assert bad["score"] < safe["score"]


def test_missing_headers_are_read_from_a_real_response() -> None:
    # Without ours (and without Django 6's CSP middleware, which sends SECURE_CSP on its own)
    middleware = [
        m
        for m in settings.MIDDLEWARE
        if "SecurityHeaders" not in m and not m.endswith(".csp.ContentSecurityPolicyMiddleware")
    ]
    data = report(MIDDLEWARE=middleware)
    assert {"header:Content-Security-Policy", "header:Permissions-Policy"} <= ids(data)
    headers = data["categories"]["headers"]
    assert headers["score"] < WEIGHTS["headers"]
    assert "header:X-Request-ID" not in ids(data)
    assert set(EXPECTED_HEADERS) >= {"X-Request-ID", "Content-Security-Policy"}


def test_staff_without_mfa_are_counted() -> None:
    User = get_user_model()  # noqa: N806
    User.objects.create_user("admin1", password="x", is_staff=True)
    User.objects.create_user("plain", password="x")
    data = report()
    assert "mfa:staff" in ids(data)
    assert data["categories"]["mfa"]["score"] == 0


def test_a_failing_service_is_a_finding() -> None:
    full_disk = [("database", {}), ("disk", {"max_percent": 0.001, "warn_percent": None})]
    data = report(HARDENING_HEALTH_CHECKS=full_disk)
    assert "service:disk" in ids(data)
    assert data["categories"]["services"]["score"] == WEIGHTS["services"] / 2


def test_text_output_and_the_ci_gate() -> None:
    out = StringIO()
    with production(DEBUG=True, CACHES=LOCAL_CACHE):
        call_command("hardening_report", stdout=out)
        text = out.getvalue()
        assert "ERROR   checks   hardening.E007: DEBUG is on." in text
        assert "fix: DEBUG leaks" in text and "Score: " in text
        with pytest.raises(CommandError, match="below 100") as raised:
            call_command("hardening_report", "--fail-under", "100", stdout=StringIO())
        assert raised.value.returncode == 1
        call_command("hardening_report", "--fail-under", "1", stdout=StringIO())
