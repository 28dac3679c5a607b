"""The wiring checks (hardening.deploy.wiring): each fires in production as an Error, as a
Warning elsewhere, and stays quiet on the example project's wiring."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.checks import CheckMessage

from hardening.deploy.wiring import server_workers
from hardening.drf import rest_framework_settings
from tests.helpers.checks import check_error_codes, production

SESSION = "rest_framework.authentication.SessionAuthentication"
BEARER = "hardening.authentication.BearerTokenAuthentication"
PLAIN_LOGGING = {
    "version": 1,
    "formatters": {"plain": {"format": "%(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
}

CASES = [
    ({"REST_FRAMEWORK": {"DEFAULT_AUTHENTICATION_CLASSES": [SESSION, BEARER]}}, "hardening.E120"),
    ({"REST_FRAMEWORK": {}}, "hardening.E120"),
    ({"LOGGING": PLAIN_LOGGING}, "hardening.E030"),
    ({"LOGGING": {}}, "hardening.E030"),
    ({"LOGIN_URL": "/accounts/login/"}, "hardening.E220"),
    ({"LOGIN_URL": "no-such-url-name"}, "hardening.E220"),
]


@pytest.mark.parametrize(("changes", "code"), CASES)
def test_wiring_mistake_is_an_error_in_production(changes: dict[str, object], code: str) -> None:
    with production(**changes):
        assert check_error_codes().get(code) == "ERROR"
    with production(HARDENING_ENVIRONMENT="development", **changes):
        assert check_error_codes().get(code) == "WARNING"


def test_the_example_wiring_passes_every_wiring_check() -> None:
    with production():
        codes = check_error_codes()
    for code in ("E120", "E030", "E031", "E220"):
        assert f"hardening.{code}" not in codes


def test_the_drf_helper_puts_the_bearer_class_first() -> None:
    values = rest_framework_settings()
    assert values["DEFAULT_AUTHENTICATION_CLASSES"][0] == BEARER
    assert values["EXCEPTION_HANDLER"] == "hardening.errors.drf_exception_handler"
    api_key = "hardening.authentication.ApiKeyAuthentication"
    assert rest_framework_settings(session=False)["DEFAULT_AUTHENTICATION_CLASSES"] == [
        BEARER,
        api_key,
    ]
    with production(REST_FRAMEWORK=rest_framework_settings()):
        assert "hardening.E120" not in check_error_codes()


def test_an_external_login_url_is_not_checked() -> None:
    with production(LOGIN_URL="https://login.example.com/"):
        assert "hardening.E220" not in check_error_codes()


def test_no_mfa_page_no_login_url_check() -> None:
    with production(ROOT_URLCONF="tests.mfa.urls_without_mfa", LOGIN_URL="/accounts/login/"):
        assert "hardening.E220" not in check_error_codes()


@pytest.mark.parametrize(
    ("environ", "workers"),
    [
        ({}, 1),
        ({"WEB_CONCURRENCY": "4"}, 4),
        ({"GUNICORN_CMD_ARGS": "--bind 0.0.0.0:8000 --workers 3"}, 3),
        ({"GUNICORN_CMD_ARGS": "-w 2"}, 2),
        ({"GUNICORN_CMD_ARGS": "--workers=5"}, 5),
        ({"GUNICORN_CMD_ARGS": "--workers 'unbalanced"}, 1),
    ],
)
def test_server_workers_from_the_environment(environ: dict[str, str], workers: int) -> None:
    assert server_workers(environ) == workers


@pytest.mark.parametrize(
    ("argv", "workers"),
    [
        (["/srv/venv/bin/gunicorn", "mysite.wsgi", "--workers", "4"], 4),
        (["/srv/venv/bin/gunicorn", "mysite.wsgi", "-w", "3", "--bind", ":8000"], 3),
        (["/srv/venv/bin/gunicorn", "--workers=5", "mysite.wsgi"], 5),
        (["/srv/venv/bin/gunicorn", "-w2", "mysite.wsgi"], 2),
        (["/usr/lib/python3/site-packages/gunicorn/__main__.py", "-w", "6", "m.wsgi"], 6),
        (["/srv/venv/bin/uvicorn", "mysite.asgi:application", "--workers", "4"], 4),
        (["/srv/venv/bin/uvicorn", "mysite.asgi:application", "--workers=3"], 3),
        (["/srv/venv/bin/gunicorn", "mysite.wsgi", "--workers"], 1),  # no value
        (["manage.py", "mycommand", "-w", "4"], 1),  # not a server: -w means something else
        (["/srv/venv/bin/uvicorn", "app", "-w", "4"], 1),  # uvicorn has no -w
    ],
)
def test_server_workers_from_the_command_line(argv: list[str], workers: int) -> None:
    # Inside gunicorn / uvicorn (where hardening.wsgi / asgi run the checks) sys.argv is the
    # server's command line.
    assert server_workers({}, argv) == workers


def test_workers_on_the_server_command_line_need_a_multiprocess_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    monkeypatch.setattr("sys.argv", ["/srv/venv/bin/gunicorn", "mysite.wsgi", "--workers", "4"])
    with production():
        assert check_error_codes().get("hardening.E031") == "ERROR"
    monkeypatch.setattr("sys.argv", ["/srv/venv/bin/gunicorn", "mysite.wsgi", "-w", "1"])
    with production():
        assert "hardening.E031" not in check_error_codes()


def test_several_workers_need_a_multiprocess_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    with production():
        assert check_error_codes().get("hardening.E031") == "ERROR"
    with production(HARDENING_ENVIRONMENT="development"):
        assert check_error_codes().get("hardening.E031") == "WARNING"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    with production():
        assert "hardening.E031" not in check_error_codes()
    assert "django_prometheus" in settings.INSTALLED_APPS


def test_rotation_needs_no_blacklist_app_e108_is_retired() -> None:
    # Refresh rotation and reuse detection live in hardening's own model (TokenFamily): no
    # simplejwt app to install, no SIMPLE_JWT copy of the HARDENING_JWT_* settings.
    assert not [a for a in settings.INSTALLED_APPS if a.startswith("rest_framework_simplejwt")]
    assert not hasattr(settings, "SIMPLE_JWT")
    with production():
        assert "hardening.E108" not in check_error_codes()


def test_a_development_runserver_prints_one_line_not_every_finding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    insecure = {"HARDENING_ENVIRONMENT": "development", "SECRET_KEY": "", "ALLOWED_HOSTS": []}
    with production(**insecure):
        assert "hardening.E001" in check_error_codes()  # manage.py check: every finding
        monkeypatch.setattr("sys.argv", ["manage.py", "runserver"])
        codes = check_error_codes()
        assert codes == {"hardening.I030": "INFO"}, codes
        monkeypatch.setenv("HARDENING_CHECKS_VERBOSE", "1")
        assert "hardening.E001" in check_error_codes()
    monkeypatch.delenv("HARDENING_CHECKS_VERBOSE")
    with production(SECRET_KEY=""):  # production runserver: everything, as Errors
        assert check_error_codes().get("hardening.E001") == "ERROR"


def test_a_development_runserver_runs_each_check_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.checks import Error, Warning

    from hardening.checks import quiet, summary

    calls: list[str] = []

    def check_two_findings(**kwargs: object) -> list[CheckMessage]:
        calls.append("run")
        return [Error("e", id="hardening.E999"), Warning("w", id="hardening.W999")]

    monkeypatch.setattr("hardening.checks.REGISTERED", [check_two_findings])
    registered = (quiet(check_two_findings), summary)
    with production(HARDENING_ENVIRONMENT="development"):
        monkeypatch.setattr("sys.argv", ["manage.py", "runserver"])
        shown = [m.id for check in registered for m in check()]
        assert calls == ["run"]  # not once more just to count what is hidden
        assert sorted(shown) == ["hardening.E999", "hardening.I030"]
        calls.clear()
        monkeypatch.setattr("sys.argv", ["manage.py", "check"])
        shown = [m.id for check in registered for m in check()]
        assert calls == ["run"] and sorted(shown) == ["hardening.E999", "hardening.W999"]
