"""hardening.E101-E112 / W101-W103: each id in production (Error) and development (Warning)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from tests.helpers.checks import check_error_codes
from tests.jwt.helpers import public_pem, rsa_key

GOOD_OIDC = {
    "HARDENING_OIDC_ISSUER": "https://login.example.com/",
    "HARDENING_OIDC_JWKS_URL": "https://login.example.com/jwks",
    "HARDENING_OIDC_AUDIENCE": "api",
}

CASES: list[tuple[dict[str, Any], str]] = [
    ({**GOOD_OIDC, "HARDENING_OIDC_JWKS_URL": "http://login.example.com/jwks"}, "E101"),
    ({"HARDENING_OIDC_JWKS_URL": "https://login.example.com/jwks"}, "E102"),
    ({"HARDENING_CLERK_JWT_KEY": public_pem(rsa_key())}, "E102"),
    ({**GOOD_OIDC, "HARDENING_OIDC_ALGORITHMS": []}, "E103"),
    ({**GOOD_OIDC, "HARDENING_OIDC_ALGORITHMS": ["HS256"]}, "E103"),
    ({**GOOD_OIDC, "HARDENING_OIDC_ALGORITHMS": ["none"]}, "E103"),
    ({"HARDENING_JWT_LEEWAY": 600}, "E104"),
    ({"HARDENING_JWT_LEEWAY": -1}, "E104"),
    ({"HARDENING_JWT_ISSUERS": [{"issuer": "https://x.example.com"}]}, "E105"),
    (
        {"HARDENING_CLERK_ISSUER": "https://c.example.com", "HARDENING_CLERK_JWT_KEY": "nope"},
        "E106",
    ),
    ({"HARDENING_JWKS_TIMEOUT": 10}, "E107"),
    ({"HARDENING_JWKS_TIMEOUT": 0}, "E107"),
    ({"HARDENING_JWT_USER_MODE": "magic"}, "E109"),
    ({"HARDENING_LOGIN_CHALLENGES": ["hardening.nope.challenge"]}, "E111"),
    ({**GOOD_OIDC, "HARDENING_OIDC_ISSUER": "django-hardening"}, "E110"),
    ({"HARDENING_JWT_VERIFIED_CACHE_SECONDS": -1}, "E112"),
    ({"HARDENING_JWT_VERIFIED_CACHE_SECONDS": "sixty"}, "E112"),
    ({"HARDENING_JWT_VERIFIED_CACHE_SIZE": -10}, "E112"),
    ({"HARDENING_JWT_VERIFIED_CACHE_SIZE": None}, "E112"),
]


def _run(changes: dict[str, Any], environment: str) -> dict[str, str]:
    with override_settings(HARDENING_ENVIRONMENT=environment, **changes):
        return check_error_codes()


@pytest.mark.parametrize(
    ("changes", "code"), CASES, ids=[c[1] + str(i) for i, c in enumerate(CASES)]
)
def test_error_in_production_warning_in_development(changes: dict[str, Any], code: str) -> None:
    assert _run(changes, "production").get(f"hardening.{code}") == "ERROR"
    assert _run(changes, "development").get(f"hardening.{code}") == "WARNING"
    assert f"hardening.{code}" not in _run({}, "production")


def test_blacklist_app_missing_is_e108(settings: Any) -> None:
    apps = [a for a in settings.INSTALLED_APPS if "token_blacklist" not in a]
    with override_settings(INSTALLED_APPS=apps):
        assert _run({}, "production").get("hardening.E108") == "ERROR"
        assert _run({}, "development").get("hardening.E108") == "WARNING"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"HARDENING_JWT_ACCESS_TOKEN_LIFETIME": 86400}, "W101"),
        ({**GOOD_OIDC, "HARDENING_OIDC_AUDIENCE": ""}, "W102"),
        ({"HARDENING_CLERK_ISSUER": "https://c.example.com"}, "W103"),
    ],
)
def test_warnings_everywhere(changes: dict[str, Any], code: str) -> None:
    assert _run(changes, "production").get(f"hardening.{code}") == "WARNING"
    assert _run(changes, "development").get(f"hardening.{code}") == "WARNING"
    assert f"hardening.{code}" not in _run({}, "production")


def test_good_configuration_has_no_jwt_messages() -> None:
    good = {
        **GOOD_OIDC,
        "HARDENING_CLERK_ISSUER": "https://c.example.com",
        "HARDENING_CLERK_AUTHORIZED_PARTIES": ["https://app.example.com"],
    }
    codes = _run(good, "production")
    assert not [c for c in codes if c[len("hardening.") + 1 :].startswith("1")]
