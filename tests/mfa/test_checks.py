"""MFA system checks: an Error in production, a Warning in development."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.helpers.checks import SAFE_PRODUCTION, check_error_codes

CASES = [
    ({"HARDENING_MFA_TOTP_TOLERANCE": 2}, "hardening.E201"),
    ({"HARDENING_MFA_TOTP_TOLERANCE": -1}, "hardening.E201"),
    ({"HARDENING_MFA_TOTP_DIGITS": 4}, "hardening.E202"),
    ({"HARDENING_MFA_TOTP_PERIOD": 300}, "hardening.E202"),
    ({"HARDENING_MFA_REQUIRED": "admins"}, "hardening.E203"),
    ({"HARDENING_MFA_THROTTLE_FACTOR": 0}, "hardening.E204"),
    ({"HARDENING_MFA_USER_MAX_FAILURES": 500}, "hardening.E205"),
    ({"HARDENING_MFA_TOKEN_TTL": 3600}, "hardening.E206"),
    ({"HARDENING_MFA_TOKEN_MAX_ATTEMPTS": 100}, "hardening.E206"),
    ({"HARDENING_MFA_CACHE": "nope"}, "hardening.E207"),
    ({"HARDENING_MFA_REQUIRED": "staff", "HARDENING_MFA_ENABLED": False}, "hardening.E208"),
    (
        {"HARDENING_MFA_REQUIRED": "all", "ROOT_URLCONF": "tests.mfa.urls_without_mfa"},
        "hardening.E209",
    ),
    ({"HARDENING_MFA_REQUIRED": "all", "MIDDLEWARE": []}, "hardening.E210"),
]


@pytest.mark.parametrize(("changes", "code"), CASES)
def test_error_in_production(changes: dict[str, object], code: str) -> None:
    with override_settings(**{**SAFE_PRODUCTION, **changes}):
        assert check_error_codes().get(code) == "ERROR"


@pytest.mark.parametrize(("changes", "code"), CASES)
def test_warning_in_development(changes: dict[str, object], code: str) -> None:
    with override_settings(
        **{**SAFE_PRODUCTION, "HARDENING_ENVIRONMENT": "development", **changes}
    ):
        assert check_error_codes().get(code) == "WARNING"


def test_tolerance_one_is_a_production_warning() -> None:
    with override_settings(**{**SAFE_PRODUCTION, "HARDENING_MFA_TOTP_TOLERANCE": 1}):
        assert check_error_codes().get("hardening.W201") == "WARNING"
    with override_settings(**{**SAFE_PRODUCTION, "HARDENING_ENVIRONMENT": "development",
                              "HARDENING_MFA_TOTP_TOLERANCE": 1}):  # fmt: skip
        assert "hardening.W201" not in check_error_codes()


def test_per_process_cache_warning() -> None:
    local = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(**{**SAFE_PRODUCTION, "CACHES": local}):
        assert check_error_codes().get("hardening.W202") == "WARNING"


def test_safe_defaults_have_no_mfa_messages() -> None:
    with override_settings(**{**SAFE_PRODUCTION, "HARDENING_MFA_REQUIRED": "staff"}):
        codes = check_error_codes()
    assert not [c for c in codes if c.startswith(("hardening.E2", "hardening.W2"))]


def test_mfa_disabled_skips_the_checks() -> None:
    with override_settings(**{**SAFE_PRODUCTION, "HARDENING_MFA_ENABLED": False,
                              "HARDENING_MFA_TOTP_TOLERANCE": 5}):  # fmt: skip
        assert "hardening.E201" not in check_error_codes()
