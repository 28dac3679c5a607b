"""The settings machinery (``hardening.conf``): typed, lazy, never raising; bad and removed
values reported by system checks."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from hardening.conf import Reader, conf, parse, setting
from hardening.deploy.order import misplaced
from tests.helpers.checks import check_error_codes


class Example(Reader):
    removed = {"HARDENING_EXAMPLE_OLD": "HARDENING_EXAMPLE_SECONDS"}
    HARDENING_EXAMPLE_SECONDS = setting(30.0, parse.seconds, "Seconds.")
    HARDENING_EXAMPLE_MODE = setting(lambda reader: "b", parse.choice("a", "b"), "A or b.")


example = Example()


def test_a_setting_is_read_on_every_access_and_parsed() -> None:
    assert example.HARDENING_EXAMPLE_SECONDS == 30.0
    with override_settings(HARDENING_EXAMPLE_SECONDS=2):
        assert example.HARDENING_EXAMPLE_SECONDS == 2.0
        assert isinstance(example.HARDENING_EXAMPLE_SECONDS, float)
    assert example.HARDENING_EXAMPLE_MODE == "b"  # a default computed on access


@pytest.mark.parametrize("bad", ["soon", -1, True, [1]])
def test_a_bad_value_falls_back_to_the_default_and_is_reported(bad: Any) -> None:
    with override_settings(HARDENING_EXAMPLE_SECONDS=bad):
        assert example.HARDENING_EXAMPLE_SECONDS == 30.0  # never an exception in a request
        [(name, why)] = example.problems()
        assert name == "HARDENING_EXAMPLE_SECONDS" and why


def test_declared_settings_carry_their_documentation() -> None:
    declared = Example.declared()
    assert set(declared) == {"HARDENING_EXAMPLE_SECONDS", "HARDENING_EXAMPLE_MODE"}
    assert declared["HARDENING_EXAMPLE_SECONDS"].doc == "Seconds."


def test_a_removed_setting_is_an_error_in_production_naming_its_replacement() -> None:
    from tests.helpers.checks import production

    with production(HARDENING_EXAMPLE_OLD=1):
        assert check_error_codes().get("hardening.E032") == "ERROR"
    with production():
        assert "hardening.E032" not in check_error_codes()


def test_core_settings_are_typed() -> None:
    with override_settings(HARDENING_TRUSTED_PROXY_COUNT="2"):
        assert conf.HARDENING_TRUSTED_PROXY_COUNT == 0  # not an int: the default (E301)
    with override_settings(HARDENING_API_PATHS="/v1/"):
        assert conf.HARDENING_API_PATHS == ["/v1/"]


PROM_BEFORE = "django_prometheus.middleware.PrometheusBeforeMiddleware"
PROM_AFTER = "django_prometheus.middleware.PrometheusAfterMiddleware"
REQUEST = "hardening.middleware.RequestMiddleware"
SECURITY = "django.middleware.security.SecurityMiddleware"
AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"
RATE = "hardening.middleware.RateLimitMiddleware"


@pytest.mark.parametrize(
    ("middleware", "found"),
    [
        ([PROM_BEFORE, REQUEST, SECURITY, AUTH, RATE, PROM_AFTER], None),
        ([REQUEST, "myapp.Custom", SECURITY, "other.Mw", AUTH, RATE], None),
        (
            [REQUEST, SECURITY, RATE, AUTH],
            "RateLimitMiddleware runs before AuthenticationMiddleware",
        ),
        ([SECURITY, REQUEST], "RequestMiddleware is not first"),
        (["x.Y", PROM_BEFORE, REQUEST], "PrometheusBeforeMiddleware is not first"),
        ([PROM_BEFORE, REQUEST, PROM_AFTER, AUTH], "PrometheusAfterMiddleware is not last"),
    ],
)
def test_the_canonical_middleware_order(middleware: list[str], found: str | None) -> None:
    result = misplaced(middleware)
    assert result == found or (found is not None and result is not None and found in result)


@pytest.mark.parametrize(
    ("parser", "value", "expected"),
    [
        ("boolean", True, True),
        ("string", None, ""),
        ("string", "x", "x"),
        ("strings", "one", ["one"]),
        ("strings", ("a", "b"), ["a", "b"]),
        ("non_negative_int", 0, 0),
        ("seconds", None, 0.0),
        ("seconds", 2, 2.0),
        ("mapping", {1: "x"}, {"1": "x"}),
        ("networks", ["10.0.0.0/8", "::1"], ["10.0.0.0/8", "::1"]),
        ("path_prefixes", ["/api/", "^/v[0-9]/"], ["/api/", "^/v[0-9]/"]),
    ],
)
def test_parsers_accept_good_values(parser: str, value: object, expected: object) -> None:
    assert getattr(parse, parser)(value) == expected


@pytest.mark.parametrize(
    ("parser", "value", "error"),
    [
        ("boolean", "yes", TypeError),
        ("string", 3, TypeError),
        ("strings", 3, TypeError),
        ("strings", ["a", 3], TypeError),
        ("non_negative_int", True, TypeError),
        ("non_negative_int", "3", TypeError),
        ("non_negative_int", -1, ValueError),
        ("seconds", True, TypeError),
        ("seconds", "3", TypeError),
        ("seconds", -1, ValueError),
        ("seconds", float("nan"), ValueError),
        ("mapping", [], TypeError),
        ("networks", ["10.0.0.0/33"], ValueError),
        ("path_prefixes", ["api/"], ValueError),
    ],
)
def test_parsers_refuse_bad_values_with_a_message(
    parser: str, value: object, error: type[Exception]
) -> None:
    with pytest.raises(error) as raised:
        getattr(parse, parser)(value)
    assert str(raised.value)


def test_choice_optional_and_environment_names() -> None:
    mode = parse.choice("on", "off")
    assert mode("on") == "on"
    with pytest.raises(ValueError, match="expected one of 'on', 'off'"):
        mode("maybe")
    maybe = parse.optional(parse.seconds)
    assert maybe(None) is None and maybe(3) == 3.0
    assert parse.environment_name(None) == "production"
    assert parse.environment_name(" Dev ") == "development"
    assert parse.environment_name("staging") == "staging"  # not validated here
    assert parse.ENVIRONMENTS == ("production", "development", "test")
