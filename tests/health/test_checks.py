"""System checks of the health probes: every id, in production (Error) and development
(Warning), through Django's registry."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from tests.helpers.checks import check_error_codes

NO_HEALTH_URLS = "tests.health.urls_without_health"


def codes(environment: str, **changes: Any) -> dict[str, str]:
    with override_settings(HARDENING_ENVIRONMENT=environment, **changes):
        return {k: v for k, v in check_error_codes().items() if k[10:11] in "EW" and k[11] == "5"}


PROBLEMS = [
    ({"ROOT_URLCONF": NO_HEALTH_URLS}, "hardening.E501"),
    ({"HARDENING_HEALTH_DISK_MAX_PERCENT": 0}, "hardening.E502"),
    ({"HARDENING_HEALTH_DISK_MAX_PERCENT": 101}, "hardening.E502"),
    ({"HARDENING_HEALTH_DISK_MAX_PERCENT": "90"}, "hardening.E502"),
    ({"HARDENING_HEALTH_DISK_WARN_PERCENT": 99}, "hardening.E502"),
    ({"HARDENING_HEALTH_ALLOWED_IPS": ["10.0.0.0/33"]}, "hardening.E503"),
    ({"HARDENING_HEALTH_TOKEN": "short"}, "hardening.E504"),
    ({"HARDENING_HEALTH_TIMEOUT": 0}, "hardening.E505"),
    ({"HARDENING_HEALTH_TIMEOUT": "2"}, "hardening.E505"),
    ({"HARDENING_HEALTH_CACHE_SECONDS": -1}, "hardening.E505"),
    ({"HARDENING_HEALTH_EXTRA_CHECKS": ["no.such.Check"]}, "hardening.E506"),
    ({"HARDENING_HEALTH_EXTRA_CHECKS": ["collections.OrderedDict"]}, "hardening.E506"),
    ({"HARDENING_HEALTH_DATABASES": ["nope"]}, "hardening.E507"),
    ({"HARDENING_HEALTH_CACHES": ["nope"]}, "hardening.E507"),
]


@pytest.mark.parametrize(("changes", "code"), PROBLEMS)
def test_problem_is_an_error_in_production_and_a_warning_in_development(
    changes: dict[str, Any], code: str
) -> None:
    assert codes("production", **changes).get(code) == "ERROR"
    assert codes("development", **changes).get(code) == "WARNING"
    assert codes("test", **changes).get(code) == "WARNING"


def test_default_settings_have_no_health_messages() -> None:
    assert codes("development") == {}
    assert codes("production", SECURE_SSL_REDIRECT=True) == {}  # ^health/ is exempt


def test_valid_values_pass() -> None:
    ok = {
        "HARDENING_HEALTH_DISK_MAX_PERCENT": 90,
        "HARDENING_HEALTH_DISK_WARN_PERCENT": None,
        "HARDENING_HEALTH_ALLOWED_IPS": ["10.0.0.0/8", "::1"],
        "HARDENING_HEALTH_TOKEN": "x" * 32,
        "HARDENING_HEALTH_TIMEOUT": 0.5,
        "HARDENING_HEALTH_EXTRA_CHECKS": [("health_check.checks.Cache", {"alias": "default"})],
    }
    assert codes("production", **ok) == {}


def test_open_allow_list_warns_in_production_only() -> None:
    changes = {"HARDENING_HEALTH_ALLOWED_IPS": ["0.0.0.0/0"]}
    assert codes("production", **changes) == {"hardening.W501": "WARNING"}
    assert codes("development", **changes) == {}


def test_ssl_redirect_of_the_probe_warns_everywhere() -> None:
    changes = {"SECURE_SSL_REDIRECT": True, "SECURE_REDIRECT_EXEMPT": []}
    assert codes("production", **changes) == {"hardening.W502": "WARNING"}
    assert codes("development", **changes) == {"hardening.W502": "WARNING"}


def test_uncached_results_warn_in_production_only() -> None:
    changes = {"HARDENING_HEALTH_CACHE_SECONDS": 0}
    assert codes("production", **changes) == {"hardening.W503": "WARNING"}
    assert codes("development", **changes) == {}
