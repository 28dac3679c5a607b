"""hardening.E101-E115 / W101-W103: each id in production (Error) and development (Warning);
removed JWT settings are E032 naming their replacement."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from hardening.jwt import conf as jwt_conf
from hardening.jwt import keys, verify, views
from hardening.jwt.conf import JWTSettings
from tests.helpers.checks import check_error_codes
from tests.jwt.helpers import public_pem, rsa_key

OIDC = {
    "issuer": "https://login.example.com/",
    "jwks_url": "https://login.example.com/jwks",
    "audience": "api",
}
CLERK = {
    "preset": "clerk",
    "issuer": "https://c.example.com",
    "authorized_parties": ["https://app.example.com"],
}


def issuers(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"HARDENING_JWT_ISSUERS": list(entries)}


CASES: list[tuple[dict[str, Any], str]] = [
    (issuers({**OIDC, "jwks_url": "http://login.example.com/jwks"}), "E101"),
    (issuers({"jwks_url": "https://login.example.com/jwks"}), "E102"),
    (issuers({"preset": "clerk", "public_key": public_pem(rsa_key())}), "E102"),
    (issuers({**OIDC, "algorithms": []}), "E103"),
    (issuers({**OIDC, "algorithms": ["HS256"]}), "E103"),
    (issuers({**OIDC, "algorithms": ["none"]}), "E103"),
    (issuers({"label": "nothing"}), "E105"),  # an issuer URL alone is discovery
    (issuers({"issuer": "http://x.example.com", "audience": ["api"]}), "E130"),
    (issuers({**CLERK, "public_key": "nope"}), "E106"),
    ({"HARDENING_JWT_USER_MODE": "magic"}, "E109"),
    (issuers({**OIDC, "issuer": "django-hardening"}), "E110"),
    (issuers({**OIDC, "kind": "oidc"}), "E115"),  # "kind" is now "preset"
    (issuers({**OIDC, "preset": "auth0"}), "E115"),
    (issuers({**OIDC, "audience": 7}), "E115"),
    (issuers({**OIDC, "session_cookie": True}), "E115"),  # Clerk's cookie
    ({"HARDENING_JWT_ISSUERS": {"issuer": "x"}}, "E115"),
    ({"HARDENING_JWT_ACCESS_TOKEN_LIFETIME": -5}, "E115"),
    ({"HARDENING_JWT_REVOKE_ACCESS_TOKENS": "yes"}, "E115"),
]

#: Knobs that became module constants: a bad value there is still reported.
CONSTANTS: list[tuple[Any, str, Any, str]] = [
    (jwt_conf, "LEEWAY", 600, "E104"),
    (jwt_conf, "LEEWAY", -1, "E104"),
    (keys, "TIMEOUT", 10, "E107"),
    (keys, "TIMEOUT", 0, "E107"),
    (views, "LOGIN_CHALLENGES", ["hardening.nope.challenge"], "E111"),
    (verify, "MEMO_SECONDS", -1, "E112"),
    (verify, "MEMO_SIZE", -10, "E112"),
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


@pytest.mark.parametrize(
    ("module", "name", "value", "code"),
    CONSTANTS,
    ids=[f"{c[3]}-{c[1]}" for c in CONSTANTS],
)
def test_constants_out_of_bounds(
    module: Any, name: str, value: Any, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert f"hardening.{code}" not in _run({}, "production")
    monkeypatch.setattr(module, name, value)
    assert _run({}, "production").get(f"hardening.{code}") == "ERROR"
    assert _run({}, "development").get(f"hardening.{code}") == "WARNING"


def test_blacklist_app_is_no_longer_needed_e108_retired(settings: Any) -> None:
    assert not [a for a in settings.INSTALLED_APPS if "token_blacklist" in a]
    assert "hardening.E108" not in _run({}, "production")


@pytest.mark.parametrize("name", sorted(JWTSettings.removed))
def test_removed_settings_name_their_replacement(name: str) -> None:
    with override_settings(HARDENING_ENVIRONMENT="production", **{name: "x"}):
        found = [m for m in run_checks() if m.id == "hardening.E032" and name in m.msg]
        assert check_error_codes().get("hardening.E032") == "ERROR"
    assert len(found) == 1
    assert JWTSettings.removed[name] in (found[0].hint or "")


def test_removed_issuer_settings_point_at_the_issuer_list() -> None:
    for name, instead in JWTSettings.removed.items():
        if name.startswith(("HARDENING_CLERK_", "HARDENING_OIDC_")):
            assert instead.startswith("HARDENING_JWT_ISSUERS"), name
    assert JWTSettings.removed["HARDENING_JWT_BEARER_PATHS"] == "HARDENING_API_PATHS"
    assert JWTSettings.removed["HARDENING_JWKS_SHARED_CACHE"].startswith("HARDENING_CACHE")


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"HARDENING_JWT_ACCESS_TOKEN_LIFETIME": 86400}, "W101"),
        (issuers({**OIDC, "audience": ""}), "W102"),
        (issuers({"preset": "clerk", "issuer": "https://c.example.com"}), "W103"),
    ],
)
def test_warnings_everywhere(changes: dict[str, Any], code: str) -> None:
    assert _run(changes, "production").get(f"hardening.{code}") == "WARNING"
    assert _run(changes, "development").get(f"hardening.{code}") == "WARNING"
    assert f"hardening.{code}" not in _run({}, "production")


def test_good_configuration_has_no_jwt_messages() -> None:
    codes = _run(issuers(OIDC, CLERK), "production")
    assert not [c for c in codes if c[len("hardening.") + 1 :].startswith("1")]
