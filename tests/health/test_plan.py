"""Which checks readiness runs: HARDENING_HEALTH_CHECKS = None is today's default set; a
list replaces it (built-in names with options, dotted paths)."""

from __future__ import annotations

import tempfile
from typing import Any

import pytest
from django.test import override_settings

from hardening.health.plan import readiness_checks
from hardening.health.probes import Cache, Disk, check_name

TWO_CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "limits": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "l"},
}


def names(**changes: Any) -> list[str]:
    with override_settings(**changes):
        return [check_name(check) for check in readiness_checks()]


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_automatic_set_is_every_database_the_shared_caches_disk_migrations_and_jwks() -> None:
    assert names() == ["database", "migrations", "cache", "disk", "jwks"]
    databases = {
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
        "replica": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    }
    assert names(DATABASES=databases)[:3] == ["database", "database:replica", "migrations"]
    # The shared cache is checked too when rate limits use another alias than "default".
    shared = {"CACHES": TWO_CACHES, "HARDENING_CACHE": "limits"}
    assert names(**shared) == ["database", "migrations", "cache", "ratelimit_cache", "disk", "jwks"]
    assert "ratelimit_cache" not in names(**shared, HARDENING_RATELIMIT_ENABLED=False)
    with override_settings(**shared):
        disk = next(c for c in readiness_checks() if isinstance(c, Disk))
        assert (disk.paths, disk.max_percent, disk.warn_percent) == (
            [tempfile.gettempdir()],
            95.0,
            85.0,
        )


def test_the_session_cache_is_critical() -> None:
    sessions = {"SESSION_ENGINE": "django.contrib.sessions.backends.cache"}
    with override_settings(**sessions):
        cache = next(c for c in readiness_checks() if isinstance(c, Cache))
    assert cache.critical
    with override_settings(**sessions, HARDENING_HEALTH_CHECKS=[("cache", {"alias": "default"})]):
        [cache] = readiness_checks()
    assert cache.critical


def test_a_list_replaces_the_set_with_options() -> None:
    entries = [
        ("database", {"alias": "replica"}),
        "migrations",
        ("cache", {"alias": "limits", "label": "ratelimit_cache", "critical": True}),
        ("disk", {"path": "/data", "max_percent": 90, "warn_percent": 80}),
        ("jwks", {"critical": False}),
        ("health_check.checks.Cache", {"alias": "default"}),
        "tests.health.test_views.Counting",
    ]
    with override_settings(CACHES=TWO_CACHES, HARDENING_HEALTH_CHECKS=entries):
        checks = readiness_checks()
    assert [check_name(c) for c in checks] == [
        "database:replica",
        "migrations",
        "ratelimit_cache",
        "disk",
        "jwks",
        "cache",
        "counting",
    ]
    assert checks[2].critical is True
    assert (checks[3].paths, checks[3].max_percent, checks[3].warn_percent) == (["/data"], 90, 80)
    assert checks[4].critical is False
    assert not hasattr(checks[6], "critical")  # only set when the entry says so
