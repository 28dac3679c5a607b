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

from hardening.deploy.report import (
    EXPECTED_HEADERS,
    WEIGHTS,
    Finding,
    Report,
    _probe_host,
    as_text,
)
from tests.helpers.checks import production
from tests.helpers.mfa import make_device

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


def test_silenced_checks_are_left_out_and_cost_nothing() -> None:
    loud = report()
    assert "hardening.E061" in ids(loud)
    quiet = report(SILENCED_SYSTEM_CHECKS=["hardening.E061"])
    assert "hardening.E061" not in ids(quiet)
    assert ids(quiet) == ids(loud) - {"hardening.E061"}
    assert quiet["categories"]["checks"]["score"] > loud["categories"]["checks"]["score"]


@pytest.mark.parametrize(
    ("allowed", "host"),
    [
        (["api.example.com", "other.example.com"], "api.example.com"),
        ([".example.com"], "example.com"),  # a subdomain wildcard: its parent domain
        (["*", "", ".", ".api.example.com"], "api.example.com"),  # no name, skipped
        (["*"], "localhost"),
        ([], "localhost"),
    ],
)
def test_the_header_probe_asks_for_the_first_allowed_host_name(
    allowed: list[str], host: str
) -> None:
    with production(ALLOWED_HOSTS=allowed):
        assert _probe_host() == host


def test_a_probe_that_cannot_run_is_one_error_and_no_header_points() -> None:
    # A middleware that cannot be imported: the request itself raises (not a 500 response).
    middleware = [*settings.MIDDLEWARE, "tests.no_such_module.Middleware"]
    data = report(MIDDLEWARE=middleware)
    headers = [f for f in data["findings"] if f["category"] == "headers"]
    assert len(headers) == 1, headers
    (finding,) = headers
    assert finding["id"] == "headers" and finding["severity"] == "error"
    assert finding["message"].startswith("the probe failed: ModuleNotFoundError(")
    assert len(finding["message"]) <= 200
    assert data["categories"]["headers"]["score"] == 0


def test_health_settings_that_build_no_probe_are_one_error_and_no_service_points() -> None:
    data = report(HARDENING_HEALTH_CHECKS=[("tests.no_such_module.Check", {})])
    services = [f for f in data["findings"] if f["category"] == "services"]
    assert [(f["id"], f["severity"]) for f in services] == [("service", "error")]
    assert services[0]["message"].startswith("no probe ran: ")
    assert data["categories"]["services"]["score"] == 0
    assert data["categories"]["checks"]["score"] < WEIGHTS["checks"]  # and E502/E506 say why


def test_no_probes_configured_leaves_the_services_share_whole() -> None:
    data = report(HARDENING_HEALTH_CHECKS=[])
    assert not [f for f in data["findings"] if f["category"] == "services"]
    assert data["categories"]["services"]["score"] == WEIGHTS["services"]


def test_staff_accounts_that_cannot_be_read_are_one_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.contrib import auth
    from django.contrib.contenttypes.models import ContentType

    # A user model without is_staff: the query raises FieldError, the report goes on.
    monkeypatch.setattr(auth, "get_user_model", lambda: ContentType)
    data = report()
    mfa = [f for f in data["findings"] if f["category"] == "mfa"]
    assert [(f["id"], f["severity"]) for f in mfa] == [("mfa", "error")]
    assert mfa[0]["message"].startswith("staff accounts unreadable: FieldError(")
    assert data["categories"]["mfa"]["score"] == 0
    assert data["categories"]["headers"]["score"] == WEIGHTS["headers"]  # the rest still ran


def test_mfa_share_counts_staff_and_superusers_with_a_confirmed_device() -> None:
    User = get_user_model()  # noqa: N806
    staff = User.objects.create_user("staff", password="x", is_staff=True)
    root = User.objects.create_superuser("root", password="x")
    make_device(staff)
    make_device(root, confirmed=False)  # enrolment not finished: not covered
    User.objects.create_user("gone", password="x", is_staff=True, is_active=False)
    User.objects.create_user("plain", password="x")
    data = report()
    (finding,) = [f for f in data["findings"] if f["category"] == "mfa"]
    assert finding["id"] == "mfa:staff"
    assert finding["message"] == "1 of 2 staff accounts have no confirmed MFA device."
    assert data["categories"]["mfa"]["score"] == WEIGHTS["mfa"] / 2

    make_device(root, name="second")
    data = report()
    assert not [f for f in data["findings"] if f["category"] == "mfa"]
    assert data["categories"]["mfa"]["score"] == WEIGHTS["mfa"]


def test_text_form_of_findings_without_a_fix_and_of_no_findings() -> None:
    clean = Report(scores={name: float(weight) for name, weight in WEIGHTS.items()})
    text = as_text(clean)
    assert "No findings." in text and "fix:" not in text
    assert text.endswith("Score: 100/100")
    assert "checks     30.0 / 30" in text.splitlines()

    broken = Report(
        findings=[Finding("services", "error", "service", "no probe ran: boom", "")],
        scores={"services": 0.0},
    )
    lines = as_text(broken).splitlines()
    assert "ERROR   services service: no probe ran: boom" in lines
    assert "No findings." not in lines and not any("fix:" in line for line in lines)
    assert lines[-1] == "Score: 0/100" and "mfa         0.0 / 15" in lines
