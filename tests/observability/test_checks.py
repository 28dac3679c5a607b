from __future__ import annotations

from collections.abc import Iterator

import pytest
import sentry_sdk
from django.conf import settings
from django.test import override_settings
from sentry_sdk.transport import Transport

from tests.helpers.checks import SAFE_PRODUCTION, assert_reported, check_error_codes

REQUEST_ID = "hardening.middleware.RequestMiddleware"
BEFORE = "django_prometheus.middleware.PrometheusBeforeMiddleware"
AFTER = "hardening.middleware.PrometheusAfterMiddleware"  # the example's


def without(*names: str) -> list[str]:
    return [m for m in settings.MIDDLEWARE if m not in names]


def moved_last(name: str) -> list[str]:
    return [*without(name, AFTER), name, AFTER]


CASES = [
    ({"ROOT_URLCONF": "tests.observability.open_metrics_urls"}, "hardening.E601"),
    ({"MIDDLEWARE": without(REQUEST_ID)}, "hardening.E602"),
    ({"MIDDLEWARE_": "request_id_last"}, "hardening.E033"),  # the canonical order
    ({"MIDDLEWARE": without(BEFORE)}, "hardening.E604"),
    ({"MIDDLEWARE_": "after_not_last"}, "hardening.E033"),
    ({"MIDDLEWARE_": "upstream_after"}, "hardening.W616"),
    ({"HARDENING_OPERATOR_IPS": ["10.0.0.0/33"]}, "hardening.E605"),
    ({"HARDENING_OPERATOR_IPS": ["0.0.0.0/0"]}, "hardening.W606"),
    ({"HARDENING_OPERATOR_IPS": 10}, "hardening.E605"),
    ({"HARDENING_METRICS_TOKEN": "short-token"}, "hardening.E607"),
    ({"HARDENING_METRICS_TOKEN": 12345}, "hardening.E607"),
    ({"HARDENING_METRICS_ALLOWED_IPS": ["10.0.0.0/8"]}, "hardening.E032"),
]


def _changes(changes: dict[str, object]) -> dict[str, object]:
    special = changes.get("MIDDLEWARE_")
    if special == "request_id_last":
        return {"MIDDLEWARE": moved_last(REQUEST_ID)}
    if special == "upstream_after":
        upstream = "django_prometheus.middleware.PrometheusAfterMiddleware"
        return {"MIDDLEWARE": [upstream if m == AFTER else m for m in settings.MIDDLEWARE]}
    if special == "after_not_last":
        return {"MIDDLEWARE": [*without(AFTER)[:-1], AFTER, without(AFTER)[-1]]}
    return changes


@pytest.mark.parametrize("environment", ["production", "development"])
@pytest.mark.parametrize(("changes", "code"), CASES)
def test_problem_reported(changes: dict[str, object], code: str, environment: str) -> None:
    assert_reported(_changes(changes), code, environment=environment)


def test_example_settings_pass_every_observability_check() -> None:
    with override_settings(**SAFE_PRODUCTION):
        codes = check_error_codes()
    assert not [c for c in codes if c.startswith(("hardening.E6", "hardening.W6"))], codes


class _NullTransport(Transport):
    def capture_envelope(self, envelope: object) -> None:
        pass


@pytest.fixture
def pii_sentry() -> Iterator[None]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        sentry_sdk.init(
            dsn="https://k@127.0.0.1/1", send_default_pii=True, transport=_NullTransport()
        )
    yield
    sentry_sdk.get_client().close()
    sentry_sdk.init()


@pytest.mark.usefixtures("pii_sentry")
@pytest.mark.parametrize(("environment", "level"), [("production", "ERROR"), ("test", "WARNING")])
def test_sentry_sending_pii_is_reported(environment: str, level: str) -> None:
    with override_settings(**{**SAFE_PRODUCTION, "HARDENING_ENVIRONMENT": environment}):
        codes = check_error_codes()
    assert codes.get("hardening.E612") == level, codes


def test_sentry_from_init_sentry_passes() -> None:
    from hardening.observability.sentry import init_sentry

    init_sentry("https://k@127.0.0.1/1", environment="test", transport=_NullTransport())
    try:
        with override_settings(**SAFE_PRODUCTION):
            assert "hardening.E612" not in check_error_codes()
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()


def test_an_unsupported_sentry_sdk_is_a_check_error_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # sentry-sdk 3's client has no should_send_default_pii: the check must not reach it.
    monkeypatch.setattr(sentry_sdk, "VERSION", "3.0.0")
    with override_settings(**SAFE_PRODUCTION):
        codes = check_error_codes()
    assert codes.get("hardening.E615") == "ERROR", codes


def test_init_sentry_refuses_an_unsupported_sentry_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from hardening.observability.sentry import init_sentry

    monkeypatch.setattr(sentry_sdk, "VERSION", "3.0.0")
    with pytest.raises(ImproperlyConfigured, match="sentry-sdk 3.0.0"):
        init_sentry("https://k@127.0.0.1/1", environment="test", transport=_NullTransport())
