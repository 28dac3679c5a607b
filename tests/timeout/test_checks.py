from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client

from hardening.timeout.checks import MIDDLEWARE_PATH, gunicorn_timeout
from hardening.timeout.conf import Settings
from tests.helpers.checks import check_error_codes, check_messages, production
from tests.timeout.helpers import timeout_settings

POSTGRES = {"ENGINE": "django.db.backends.postgresql", "NAME": "x", "CONN_MAX_AGE": 60}


def without_timeout_middleware() -> list[str]:
    return [m for m in settings.MIDDLEWARE if m != MIDDLEWARE_PATH]


PROBLEMS = [
    ({"HARDENING_REQUEST_TIMEOUT": "soon"}, "hardening.E401"),
    ({"HARDENING_REQUEST_TIMEOUT": -5}, "hardening.E401"),
    ({"HARDENING_REQUEST_TIMEOUT": float("nan")}, "hardening.E401"),
    ({"HARDENING_REQUEST_TIMEOUT": True}, "hardening.E401"),
    ({"HARDENING_SERVER_TIMEOUT": "x"}, "hardening.E401"),
    ({"HARDENING_REQUEST_TIMEOUT_ROUTES": {"/upload/": "long"}}, "hardening.E402"),
    ({"HARDENING_REQUEST_TIMEOUT_ROUTES": ["/upload/"]}, "hardening.E402"),
    ({"HARDENING_REQUEST_TIMEOUT_ROUTES": {"/health/": -1}}, "hardening.E402"),
    ({"HARDENING_REQUEST_TIMEOUT_DB": "sometimes"}, "hardening.E402"),
    ({"HARDENING_REQUEST_TIMEOUT_MODE": "harakiri"}, "hardening.E402"),
    ({"HARDENING_REQUEST_TIMEOUT_EXEMPT": "/health/"}, "hardening.E032"),
    ({"HARDENING_REQUEST_TIMEOUT_SIGNAL": False}, "hardening.E032"),
    ({"HARDENING_REQUEST_TIMEOUT_THREAD": False}, "hardening.E032"),
    ({"HARDENING_REQUEST_TIMEOUT": 30, "HARDENING_SERVER_TIMEOUT": 30}, "hardening.E403"),
    (
        {"HARDENING_REQUEST_TIMEOUT_ROUTES": {"/upload/": 120}, "HARDENING_SERVER_TIMEOUT": 60},
        "hardening.E403",
    ),
]


@pytest.mark.parametrize(("changes", "code"), PROBLEMS)
def test_problem_is_an_error_in_production(changes: dict[str, object], code: str) -> None:
    with production(**changes):
        assert check_error_codes().get(code) == "ERROR"


@pytest.mark.parametrize(("changes", "code"), PROBLEMS)
@pytest.mark.parametrize("environment", ["development", "test"])
def test_problem_is_a_warning_in_development(
    changes: dict[str, object], code: str, environment: str
) -> None:
    with production(HARDENING_ENVIRONMENT=environment, **changes):
        assert check_error_codes().get(code) == "WARNING"


def test_safe_settings_have_no_timeout_messages() -> None:
    with production(HARDENING_SERVER_TIMEOUT=35):
        codes = check_error_codes()
    assert not [c for c in codes if c[len("hardening.") :].startswith(("E4", "W4"))], codes


def test_gunicorn_timeout_from_cmd_args(monkeypatch: pytest.MonkeyPatch) -> None:
    assert gunicorn_timeout("--timeout 30 --workers 2") == 30
    assert gunicorn_timeout("--timeout=25") == 25
    assert gunicorn_timeout("-t 20") == 20
    assert gunicorn_timeout("-t15") == 15
    assert gunicorn_timeout("--timeout 30 -k gthread") is None  # heartbeat only
    assert gunicorn_timeout("--timeout 30 --threads 4") is None
    assert gunicorn_timeout("--timeout 30 --worker-class=sync") == 30
    assert gunicorn_timeout("--workers 2") is None
    assert gunicorn_timeout("--timeout 'unterminated") is None
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--timeout 20")
    with production(HARDENING_REQUEST_TIMEOUT=30):
        assert check_error_codes().get("hardening.E403") == "ERROR"
    with production(HARDENING_REQUEST_TIMEOUT=15):
        assert "hardening.E403" not in check_error_codes()


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_postgres_without_statement_timeout_warns_in_production() -> None:
    bare = without_timeout_middleware()
    with production(DATABASES={"default": POSTGRES}, MIDDLEWARE=bare):
        assert check_error_codes().get("hardening.W401") == "WARNING"
    with production(DATABASES={"default": POSTGRES}, HARDENING_REQUEST_TIMEOUT_DB="off"):
        assert check_error_codes().get("hardening.W401") == "WARNING"
    # Covered: per-request statement timeouts, or a connection-level one.
    with production(DATABASES={"default": POSTGRES}):
        assert "hardening.W401" not in check_error_codes()
    options = {**POSTGRES, "OPTIONS": {"options": "-c statement_timeout=30000"}}
    with production(DATABASES={"default": options}, MIDDLEWARE=bare):
        assert "hardening.W401" not in check_error_codes()
    with production(
        DATABASES={"default": POSTGRES}, MIDDLEWARE=bare, HARDENING_ENVIRONMENT="development"
    ):
        assert "hardening.W401" not in check_error_codes()


def test_disabled_timeouts_warn_in_production() -> None:
    with production(HARDENING_REQUEST_TIMEOUT=0):
        assert check_error_codes().get("hardening.W402") == "WARNING"
    with production(HARDENING_REQUEST_TIMEOUT=None, HARDENING_ENVIRONMENT="development"):
        assert "hardening.W402" not in check_error_codes()


@pytest.mark.parametrize("environment", ["production", "development"])
def test_missing_middleware_warns(environment: str) -> None:
    with production(MIDDLEWARE=without_timeout_middleware(), HARDENING_ENVIRONMENT=environment):
        assert check_error_codes().get("hardening.W403") == "WARNING"


def test_checks_are_registered() -> None:
    with (
        production(HARDENING_REQUEST_TIMEOUT=-1),
        pytest.raises(SystemCheckError, match="hardening.E401"),
    ):
        call_command("check")


REPLACEMENTS = {
    "HARDENING_REQUEST_TIMEOUT_EXEMPT": "HARDENING_REQUEST_TIMEOUT_ROUTES",
    "HARDENING_REQUEST_TIMEOUT_SIGNAL": "HARDENING_REQUEST_TIMEOUT_MODE",
    "HARDENING_REQUEST_TIMEOUT_THREAD": "HARDENING_REQUEST_TIMEOUT_MODE",
}


@pytest.mark.parametrize(("name", "instead"), sorted(REPLACEMENTS.items()))
def test_a_removed_setting_names_its_replacement(name: str, instead: str) -> None:
    assert sorted(Settings.removed) == sorted(REPLACEMENTS)
    with production(**{name: ["/health/"] if name.endswith("EXEMPT") else False}):
        found = [m for m in check_messages() if m.id == "hardening.E032" and name in m.msg]
    assert len(found) == 1 and instead in (found[0].hint or "")


def test_an_unusable_value_is_named_in_the_message() -> None:
    with production(HARDENING_REQUEST_TIMEOUT="soon", HARDENING_REQUEST_TIMEOUT_MODE="x"):
        messages = {m.id: m.msg for m in check_messages()}
    assert "HARDENING_REQUEST_TIMEOUT " in messages["hardening.E401"]
    assert "'soon'" in messages["hardening.E401"]
    assert "HARDENING_REQUEST_TIMEOUT_MODE" in messages["hardening.E402"]


@timeout_settings(0.3, HARDENING_REQUEST_TIMEOUT_ROUTES={"/ok": "long"})
def test_an_unusable_value_never_fails_a_request() -> None:
    """Before, a bad route raised ImproperlyConfigured in every request (a 500)."""
    response = Client().get("/ok")
    assert response.status_code == 200
    assert 0 < response.json()["remaining"] <= 0.3  # the default routes and the budget
