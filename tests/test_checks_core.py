from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import SimpleTestCase

from tests.helpers.checks import (
    STRONG_KEY,
    check_error_codes,
    production,
)


class SafeProductionTests(SimpleTestCase):
    @production()
    def test_safe_production_settings_have_no_hardening_errors(self) -> None:
        codes = check_error_codes()
        assert [c for c, level in codes.items() if level == "ERROR"] == []


CASES = [
    ({"SECRET_KEY": ""}, "hardening.E001"),
    ({"SECRET_KEY": "x" * 20 + "abcdefghijk"}, "hardening.E002"),
    ({"SECRET_KEY": "ab" * 40}, "hardening.E003"),
    ({"SECRET_KEY": "django-insecure-" + STRONG_KEY}, "hardening.E004"),
    ({"SECRET_KEY": "changeme"}, "hardening.E005"),
    ({"SECRET_KEY": "your-secret-key"}, "hardening.E005"),
    ({"HARDENING_WEAK_SECRET_KEYS": [STRONG_KEY]}, "hardening.E005"),
    ({"SECRET_KEY_FALLBACKS": ["short"]}, "hardening.E006"),
    ({"DEBUG": True}, "hardening.E007"),
    ({"ALLOWED_HOSTS": []}, "hardening.E008"),
    ({"ALLOWED_HOSTS": ["*"]}, "hardening.E009"),
    ({"SESSION_COOKIE_SECURE": False}, "hardening.E010"),
    ({"CSRF_COOKIE_SECURE": False}, "hardening.E011"),
    ({"SESSION_COOKIE_HTTPONLY": False}, "hardening.E012"),
    ({"SECURE_HSTS_SECONDS": 0}, "hardening.E013"),
    ({"SECURE_HSTS_SECONDS": 3600}, "hardening.W001"),
    ({"SECURE_SSL_REDIRECT": False}, "hardening.E014"),
    ({"MIDDLEWARE": []}, "hardening.E016"),
    ({"X_FRAME_OPTIONS": "SAMEORIGIN"}, "hardening.E017"),
    ({"SECURE_CONTENT_TYPE_NOSNIFF": False}, "hardening.E019"),
    ({"SECURE_REFERRER_POLICY": "unsafe-url"}, "hardening.E020"),
    ({"SECURE_REFERRER_POLICY": None}, "hardening.E020"),
    ({"SECURE_CROSS_ORIGIN_OPENER_POLICY": None}, "hardening.E021"),
    ({"HARDENING_ENVIRONMENT": "staging"}, "hardening.E022"),
    ({"HARDENING_JWT_SIGNING_KEY": ""}, "hardening.E040"),
    ({"HARDENING_JWT_SIGNING_KEY": "too-short"}, "hardening.E041"),
    ({"HARDENING_JWT_SIGNING_KEY": STRONG_KEY}, "hardening.E042"),
    ({"HARDENING_JWT_ALGORITHM": "none"}, "hardening.E043"),
    ({"HARDENING_JWT_ALGORITHM": "RS256"}, "hardening.E044"),
    (
        {"HARDENING_JWT_ISSUERS": [{"preset": "clerk", "secret_key": "sk_test_abc"}]},
        "hardening.E045",
    ),
    (
        {"HARDENING_JWT_ISSUERS": [{"preset": "clerk", "publishable_key": "pk_test_abc"}]},
        "hardening.E046",
    ),
    ({"HARDENING_FIELD_ENCRYPTION_KEYS": []}, "hardening.E047"),
    ({"HARDENING_FIELD_ENCRYPTION_KEYS": ["not-a-key"]}, "hardening.E048"),
    ({"HARDENING_CACHE": "missing"}, "hardening.E060"),
    (
        {"CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}},
        "hardening.E061",
    ),
    (
        {"CACHES": {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}},
        "hardening.E061",
    ),
    (
        {
            "CACHES": {
                "default": {
                    "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                    "LOCATION": "/tmp/hardening-test-cache",
                }
            }
        },
        "hardening.E061",
    ),
    (
        {
            "DATABASES": {
                "default": {
                    "ENGINE": "django.db.backends.postgresql",
                    "NAME": "x",
                    "CONN_MAX_AGE": 0,
                }
            }
        },
        "hardening.E062",
    ),
    (
        {"DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x"}}},
        "hardening.W060",
    ),
]


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
@pytest.mark.parametrize(
    ("changes", "code"),
    CASES,
)
def test_each_problem_is_reported_in_production(changes: dict[str, object], code: str) -> None:
    with production(**changes):
        codes = check_error_codes()
    expected = "WARNING" if code.startswith("hardening.W") else "ERROR"
    assert codes.get(code) == expected, codes


# Errors in every environment, and checks that only make sense in production.
ALWAYS_ERRORS = {"hardening.E022", "hardening.E043"}
PRODUCTION_ONLY = {"hardening.E045", "hardening.E046", "hardening.W001", "hardening.W060"}


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
@pytest.mark.parametrize(("changes", "code"), CASES)
@pytest.mark.parametrize("environment", ["development", "test"])
def test_development_turns_errors_into_warnings(
    changes: dict[str, object], code: str, environment: str
) -> None:
    with production(**{"HARDENING_ENVIRONMENT": environment, **changes}):
        codes = check_error_codes()
    if code in PRODUCTION_ONLY:
        assert code not in codes, codes
    elif code in ALWAYS_ERRORS:
        assert codes.get(code) == "ERROR", codes
    else:
        assert codes.get(code) == "WARNING", codes


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_pooled_or_persistent_databases_pass() -> None:
    pooled = {"ENGINE": "django.db.backends.postgresql", "NAME": "x", "OPTIONS": {"pool": True}}
    persistent = {"ENGINE": "django.db.backends.postgresql", "NAME": "x", "CONN_MAX_AGE": 60}
    with production(DATABASES={"default": pooled, "other": persistent}):
        assert "hardening.E062" not in check_error_codes()


@pytest.mark.parametrize(
    ("environment", "level"), [("production", "ERROR"), ("development", "WARNING")]
)
def test_cors_allow_all_and_missing_csrf_in_each_environment(environment: str, level: str) -> None:
    from django.conf import settings

    with_cors = [*settings.INSTALLED_APPS, "corsheaders"]
    without_csrf = [m for m in settings.MIDDLEWARE if "csrf" not in m]
    env = {"HARDENING_ENVIRONMENT": environment}
    with production(INSTALLED_APPS=with_cors, CORS_ALLOW_ALL_ORIGINS=True, **env):
        assert check_error_codes().get("hardening.E015") == level
    with production(MIDDLEWARE=without_csrf, **env):
        assert check_error_codes().get("hardening.E018") == level


def test_cors_allow_all_is_an_error_when_cors_headers_is_installed() -> None:
    from django.conf import settings

    apps = [*settings.INSTALLED_APPS]
    with production(CORS_ALLOW_ALL_ORIGINS=True):
        assert "hardening.E015" not in check_error_codes()  # corsheaders not installed
    with_cors = [*apps, "corsheaders"]
    for changes in (
        {"CORS_ALLOW_ALL_ORIGINS": True},
        {"CORS_ORIGIN_ALLOW_ALL": True},
        {"CORS_ALLOWED_ORIGIN_REGEXES": [".*"]},
    ):
        with production(INSTALLED_APPS=with_cors, **changes):
            assert check_error_codes().get("hardening.E015") == "ERROR", changes
    with production(INSTALLED_APPS=with_cors, CORS_ALLOWED_ORIGINS=["https://app.example.com"]):
        assert "hardening.E015" not in check_error_codes()


def test_csrf_middleware_missing() -> None:
    from django.conf import settings

    middleware = [m for m in settings.MIDDLEWARE if "csrf" not in m]
    with production(MIDDLEWARE=middleware):
        assert check_error_codes().get("hardening.E018") == "ERROR"


class RegistrationTests(SimpleTestCase):
    @production(SECRET_KEY="")
    def test_checks_are_bound_to_manage_py_check(self) -> None:
        with pytest.raises(SystemCheckError, match="hardening.E001"):
            call_command("check")

    @production(SECRET_KEY="", SILENCED_SYSTEM_CHECKS=["hardening.E001"])
    def test_errors_can_be_silenced(self) -> None:
        call_command("check")


DOCS = Path(__file__).resolve().parent.parent / "docs" / "checks.md"
SOURCE = Path(__file__).resolve().parent.parent / "hardening"


def _source_ids() -> set[str]:
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        text = path.read_text()
        found |= set(re.findall(r'"(?:hardening\.)?([EW]\d{3})"', text))
    return found


def test_every_check_id_is_documented_once() -> None:
    headings = re.findall(r"^#+ .*?`hardening\.([EW]\d{3})`", DOCS.read_text(), re.MULTILINE)
    assert len(headings) == len(set(headings)), "an id is documented twice"
    missing = _source_ids() - set(headings)
    assert not missing, f"undocumented check ids: {sorted(missing)}"


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        ("django.core.cache.backends.locmem.LocMemCache", True),
        ("django.core.cache.backends.dummy.DummyCache", True),
        ("django.core.cache.backends.filebased.FileBasedCache", True),
        ("myproject.caches.LocMemCache", True),  # a subclass keeps the class name
        ("django.core.cache.backends.redis.RedisCache", False),
        ("django_redis.cache.RedisCache", False),
        ("django.core.cache.backends.db.DatabaseCache", False),
    ],
)
def test_per_process_caches_are_known_in_one_place(backend: str, expected: bool) -> None:
    from django.test import override_settings

    from hardening.conf.core import per_process

    caches = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(CACHES={**caches, "x": {"BACKEND": backend}}):
        assert per_process("x") is expected
    assert per_process("not-a-cache") is False  # hardening.E060 reports it


def test_the_shared_cache_must_exist_even_without_rate_limits() -> None:
    # Lockout, MFA counters and revoked tokens use HARDENING_CACHE too.
    with production(HARDENING_CACHE="missing", HARDENING_RATELIMIT_ENABLED=False):
        assert check_error_codes().get("hardening.E060") == "ERROR"
