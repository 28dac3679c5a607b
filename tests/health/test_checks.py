"""System checks of the health probes: every id, in production (Error) and development
(Warning), through Django's registry; removed settings name their replacement (E032)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from tests.helpers.checks import check_error_codes

NO_HEALTH_URLS = "tests.health.urls_without_health"


def codes(environment: str, **changes: Any) -> dict[str, str]:
    """The health room's findings (``E5xx``/``W5xx``) and removed settings (``E032``)."""
    with override_settings(HARDENING_ENVIRONMENT=environment, **changes):
        return {
            k: v
            for k, v in check_error_codes().items()
            if (k[10:11] in "EW" and k[11] == "5") or k == "hardening.E032"
        }


def disk(**options: Any) -> dict[str, Any]:
    return {"HARDENING_HEALTH_CHECKS": ["database", ("disk", options)]}


PROBLEMS = [
    ({"ROOT_URLCONF": NO_HEALTH_URLS}, "hardening.E501"),
    (disk(max_percent=0), "hardening.E502"),
    (disk(max_percent=101), "hardening.E502"),
    (disk(max_percent="90"), "hardening.E502"),
    (disk(warn_percent=99), "hardening.E502"),
    ({"HARDENING_HEALTH_TOKEN": "short"}, "hardening.E504"),
    ({"HARDENING_HEALTH_TOKEN": ["not", "a", "string"]}, "hardening.E504"),
    ({"HARDENING_HEALTH_TIMEOUT": 0}, "hardening.E505"),
    ({"HARDENING_HEALTH_TIMEOUT": "2"}, "hardening.E505"),
    ({"HARDENING_HEALTH_TIMEOUT": 61}, "hardening.E505"),
    ({"HARDENING_HEALTH_CHECKS": ["no.such.Check"]}, "hardening.E506"),
    ({"HARDENING_HEALTH_CHECKS": ["collections.OrderedDict"]}, "hardening.E506"),
    ({"HARDENING_HEALTH_CHECKS": [("database", {"no_such_argument": 1})]}, "hardening.E506"),
    ({"HARDENING_HEALTH_CHECKS": ["databse"]}, "hardening.E506"),  # neither built-in nor path
    ({"HARDENING_HEALTH_CHECKS": [("jwks", {"critical": "no"})]}, "hardening.E506"),
    ({"HARDENING_HEALTH_CHECKS": "database"}, "hardening.E506"),
    ({"HARDENING_HEALTH_CHECKS": [("database", "alias=default")]}, "hardening.E506"),
    ({"HARDENING_HEALTH_CHECKS": [("database", {"alias": "nope"})]}, "hardening.E507"),
    ({"HARDENING_HEALTH_CHECKS": [("cache", {"alias": "nope"})]}, "hardening.E507"),
    ({"HARDENING_HEALTH_CRITICAL": 5}, "hardening.E508"),
    # Removed settings (hardening.E032 names the replacement; see the test below).
    ({"HARDENING_HEALTH_DISK_MAX_PERCENT": 0}, "hardening.E032"),
    ({"HARDENING_HEALTH_DISK_WARN_PERCENT": 99}, "hardening.E032"),
    ({"HARDENING_HEALTH_DISK_PATHS": ["/"]}, "hardening.E032"),
    ({"HARDENING_HEALTH_ALLOWED_IPS": ["10.0.0.0/33"]}, "hardening.E032"),
    ({"HARDENING_HEALTH_CACHE_SECONDS": -1}, "hardening.E032"),
    ({"HARDENING_HEALTH_EXTRA_CHECKS": ["no.such.Check"]}, "hardening.E032"),
    ({"HARDENING_HEALTH_DATABASES": ["nope"]}, "hardening.E032"),
    ({"HARDENING_HEALTH_CACHES": ["nope"]}, "hardening.E032"),
    ({"HARDENING_HEALTH_JWKS": False}, "hardening.E032"),
    ({"HARDENING_HEALTH_MIGRATIONS": False}, "hardening.E032"),
    ({"HARDENING_HEALTH_NONCRITICAL": ["jwks"]}, "hardening.E032"),
    ({"HARDENING_HEALTH_FAIL_ON_WARNING": True}, "hardening.E032"),
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
        "HARDENING_HEALTH_CHECKS": [
            "database",
            ("migrations", {"alias": "default"}),
            ("cache", {"alias": "default", "critical": True}),
            ("disk", {"path": "/", "max_percent": 90, "warn_percent": None}),
            ("jwks", {"critical": False}),
            ("health_check.checks.Cache", {"alias": "default"}),
        ],
        "HARDENING_OPERATOR_IPS": ["10.0.0.0/8", "::1"],
        "HARDENING_HEALTH_TOKEN": "x" * 32,
        "HARDENING_HEALTH_TIMEOUT": 0.5,
        "HARDENING_HEALTH_CRITICAL": ["cache"],
    }
    assert codes("production", **ok) == {}


def test_open_allow_list_warns_everywhere_as_the_shared_operator_list() -> None:
    """W501 (details open to everyone, production only) is retired: the one operator list
    is checked once, by W606, in every environment."""
    changes = {"HARDENING_OPERATOR_IPS": ["0.0.0.0/0"]}
    with override_settings(HARDENING_ENVIRONMENT="production", **changes):
        found = check_error_codes()
    assert found.get("hardening.W606") == "WARNING"
    assert "hardening.W501" not in found
    assert codes("development", **changes) == {}


def test_ssl_redirect_of_the_probe_warns_everywhere() -> None:
    changes = {"SECURE_SSL_REDIRECT": True, "SECURE_REDIRECT_EXEMPT": []}
    assert codes("production", **changes) == {"hardening.W502": "WARNING"}
    assert codes("development", **changes) == {"hardening.W502": "WARNING"}


def test_an_exemption_that_is_not_a_regular_expression_exempts_nothing() -> None:
    """SecurityMiddleware itself fails on such a pattern; the check skips it, not crashes."""
    broken = {"SECURE_SSL_REDIRECT": True, "SECURE_REDIRECT_EXEMPT": ["(health", r"^static/"]}
    assert codes("production", **broken) == {"hardening.W502": "WARNING"}
    exempt = {"SECURE_SSL_REDIRECT": True, "SECURE_REDIRECT_EXEMPT": ["(health", r"^health/"]}
    assert codes("production", **exempt) == {}


def test_a_urlconf_that_cannot_be_imported_is_left_to_djangos_own_checks() -> None:
    from hardening.health.checks import check_health_urls

    with override_settings(ROOT_URLCONF="tests.health.no_such_urls"):
        assert check_health_urls() == []
    with override_settings(ROOT_URLCONF=NO_HEALTH_URLS):
        assert [m.id for m in check_health_urls()] == ["hardening.E501"]


def test_the_result_cache_is_a_constant_and_its_old_setting_is_reported() -> None:
    """W503 (uncached results) is retired with HARDENING_HEALTH_CACHE_SECONDS: the cache
    time is the constant hardening.health.runner.CACHE_SECONDS."""
    changes = {"HARDENING_HEALTH_CACHE_SECONDS": 0}
    assert codes("production", **changes) == {"hardening.E032": "ERROR"}
    assert codes("development", **changes) == {"hardening.E032": "WARNING"}


REPLACEMENTS = {
    "HARDENING_HEALTH_DATABASES": "('database', {'alias'",
    "HARDENING_HEALTH_CACHES": "('cache', {'alias'",
    "HARDENING_HEALTH_DISK_PATHS": "('disk', {'path'",
    "HARDENING_HEALTH_DISK_MAX_PERCENT": "('disk', {'max_percent'",
    "HARDENING_HEALTH_DISK_WARN_PERCENT": "('disk', {'warn_percent'",
    "HARDENING_HEALTH_EXTRA_CHECKS": "HARDENING_HEALTH_CHECKS",
    "HARDENING_HEALTH_JWKS": "HARDENING_HEALTH_CHECKS",
    "HARDENING_HEALTH_MIGRATIONS": "HARDENING_HEALTH_CHECKS",
    "HARDENING_HEALTH_CACHE_SECONDS": "hardening.health.runner.CACHE_SECONDS",
    "HARDENING_HEALTH_FAIL_ON_WARNING": "HARDENING_HEALTH_CRITICAL",
    "HARDENING_HEALTH_NONCRITICAL": "{'critical': False}",
    "HARDENING_HEALTH_ALLOWED_IPS": "HARDENING_OPERATOR_IPS",
}


def test_removed_settings_name_their_replacement() -> None:
    with override_settings(**dict.fromkeys(REPLACEMENTS, 1)):
        hints = {m.msg: m.hint for m in run_checks() if m.id == "hardening.E032"}
    for name, replacement in REPLACEMENTS.items():
        assert replacement in hints[f"{name} was removed and is ignored."], name
