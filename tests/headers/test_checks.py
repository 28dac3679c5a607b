"""Every security-header check (hardening.headers.checks): the headers of Django's
SecurityMiddleware (E019-E021 are in tests/test_checks_core.py with the other core ids), the
middleware, the Content-Security-Policy, unusable and removed header settings."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings

from tests.helpers.checks import SAFE_PRODUCTION, assert_reported, check_error_codes

HEADERS = "hardening.middleware.SecurityHeadersMiddleware"


def without(*names: str) -> list[str]:
    return [m for m in settings.MIDDLEWARE if m not in names]


CASES = [
    ({"MIDDLEWARE": without(HEADERS)}, "hardening.E608"),
    ({"SECURE_CSP": {}, "HARDENING_CSP": {}}, "hardening.E609"),
    ({"HARDENING_CSP": {"default-src": ["'self'", "'unsafe-inline'"]}}, "hardening.W610"),
    ({"HARDENING_CSP": {"default-src": ["'self'"]}}, "hardening.W611"),
    ({"HARDENING_CSP": "default-src 'self'"}, "hardening.E614"),
    ({"HARDENING_CSP": {"script-src": 5}}, "hardening.E614"),
    ({"HARDENING_PERMISSIONS_POLICY": {"camera": [1]}}, "hardening.E614"),
    ({"HARDENING_CROSS_ORIGIN_RESOURCE_POLICY": "same-orign"}, "hardening.E614"),
    ({"HARDENING_CROSS_ORIGIN_EMBEDDER_POLICY": "require_corp"}, "hardening.E614"),
    ({"HARDENING_CSP_API": {"default-src": ["'none'"]}}, "hardening.E032"),
    ({"HARDENING_CLEAR_SITE_DATA": ""}, "hardening.E032"),
    ({"HARDENING_API_PATH_PREFIXES": ["/v1/"]}, "hardening.E032"),
    ({"HARDENING_NO_STORE_PATH_PREFIXES": ["/v1/"]}, "hardening.E032"),
]


@pytest.mark.parametrize("environment", ["production", "development"])
@pytest.mark.parametrize(("changes", "code"), CASES)
def test_problem_reported(changes: dict[str, object], code: str, environment: str) -> None:
    assert_reported(changes, code, environment=environment)


def test_example_settings_pass_every_header_check() -> None:
    with override_settings(**SAFE_PRODUCTION):
        codes = check_error_codes()
    header_ids = ("E019", "E020", "E021", "E608", "E609", "W610", "W611", "E614")
    assert not [c for c in codes if c.removeprefix("hardening.") in header_ids], codes


def test_removed_settings_name_their_replacement() -> None:
    from django.core.checks import run_checks

    changes = {"HARDENING_API_PATH_PREFIXES": ["/v1/"], "HARDENING_CSP_API": {}}
    with override_settings(**{**SAFE_PRODUCTION, **changes}):
        hints = {m.msg: m.hint for m in run_checks() if m.id == "hardening.E032"}
    assert "HARDENING_API_PATHS" in hints["HARDENING_API_PATH_PREFIXES was removed and is ignored."]
    assert "API_CSP" in hints["HARDENING_CSP_API was removed and is ignored."]


def test_headers_middleware_above_django_csp_middleware(monkeypatch: pytest.MonkeyPatch) -> None:
    # Django >= 6.0 only in real life; simulate its CSP middleware being importable.
    monkeypatch.setattr("hardening.headers.csp.django_csp_middleware_active", lambda m: True)
    django_csp = "django.middleware.csp.ContentSecurityPolicyMiddleware"
    base = [m for m in settings.MIDDLEWARE if m != django_csp]  # the example has it on 6.x
    index = base.index(HEADERS)
    above = [*base[:index], HEADERS, django_csp, *base[index + 1 :]]
    below = [*base[:index], django_csp, HEADERS, *base[index + 1 :]]
    for environment in ("production", "development"):
        with override_settings(
            **{**SAFE_PRODUCTION, "HARDENING_ENVIRONMENT": environment, "MIDDLEWARE": above}
        ):
            expected = "ERROR" if environment == "production" else "WARNING"
            assert check_error_codes().get("hardening.E033") == expected
        with override_settings(
            **{**SAFE_PRODUCTION, "HARDENING_ENVIRONMENT": environment, "MIDDLEWARE": below}
        ):
            assert "hardening.E033" not in check_error_codes()
