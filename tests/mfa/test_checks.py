"""MFA system checks: an Error in production, a Warning in development."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.core.checks import run_checks
from django.test import override_settings

from hardening.mfa import checks, devices, login, throttle
from hardening.mfa.conf import MFASettings, conf
from tests.helpers.checks import SAFE_PRODUCTION, check_error_codes

CASES = [
    ({"HARDENING_MFA_TOTP_TOLERANCE": 2}, "hardening.E201"),
    ({"HARDENING_MFA_TOTP_TOLERANCE": -1}, "hardening.E201"),
    ({"HARDENING_MFA_REQUIRED": "admins"}, "hardening.E203"),
    ({"HARDENING_CACHE": "nope"}, "hardening.E207"),
    (
        {"HARDENING_MFA_REQUIRED": "all", "ROOT_URLCONF": "tests.mfa.urls_without_mfa"},
        "hardening.E209",
    ),
    ({"HARDENING_MFA_REQUIRED": "all", "MIDDLEWARE": []}, "hardening.E210"),
    ({"HARDENING_MFA_ISSUER": 42}, "hardening.E211"),
    ({"HARDENING_MFA_EXEMPT_PATHS": ["account/mfa/"]}, "hardening.E211"),
    ({"HARDENING_LOCKOUT": "often"}, "hardening.E211"),
    ({"HARDENING_LOCKOUT": "0/5m"}, "hardening.E211"),
]

#: What used to be settings and is now a module constant: (module, constant, value, id).
CONSTANT_CASES = [
    (devices, "TOTP_DIGITS", 4, "hardening.E202"),
    (devices, "TOTP_PERIOD", 300, "hardening.E202"),
    (devices, "THROTTLE_FACTOR", 0, "hardening.E204"),
    (throttle, "USER_MAX_FAILURES", 500, "hardening.E205"),
    (login, "TOKEN_TTL", 3600, "hardening.E206"),
    (login, "TOKEN_MAX_ATTEMPTS", 100, "hardening.E206"),
]


@pytest.mark.parametrize(("changes", "code"), CASES)
def test_error_in_production(changes: dict[str, object], code: str) -> None:
    with override_settings(**{**SAFE_PRODUCTION, **changes}):
        assert check_error_codes().get(code) == "ERROR"


@pytest.mark.parametrize(("changes", "code"), CASES)
def test_warning_in_development(changes: dict[str, object], code: str) -> None:
    with override_settings(
        **{**SAFE_PRODUCTION, "HARDENING_ENVIRONMENT": "development", **changes}
    ):
        assert check_error_codes().get(code) == "WARNING"


@pytest.mark.parametrize(("module", "name", "value", "code"), CONSTANT_CASES)
def test_constants_error_in_production(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str, value: object, code: str
) -> None:
    monkeypatch.setattr(module, name, value)
    with override_settings(**SAFE_PRODUCTION):
        assert check_error_codes().get(code) == "ERROR"


@pytest.mark.parametrize(("module", "name", "value", "code"), CONSTANT_CASES)
def test_constants_warning_in_development(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str, value: object, code: str
) -> None:
    monkeypatch.setattr(module, name, value)
    with override_settings(**{**SAFE_PRODUCTION, "HARDENING_ENVIRONMENT": "development"}):
        assert check_error_codes().get(code) == "WARNING"


def test_tolerance_one_is_a_production_warning() -> None:
    with override_settings(**{**SAFE_PRODUCTION, "HARDENING_MFA_TOTP_TOLERANCE": 1}):
        assert check_error_codes().get("hardening.W201") == "WARNING"
    with override_settings(**{**SAFE_PRODUCTION, "HARDENING_ENVIRONMENT": "development",
                              "HARDENING_MFA_TOTP_TOLERANCE": 1}):  # fmt: skip
        assert "hardening.W201" not in check_error_codes()


def test_per_process_cache_warning() -> None:
    local = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(**{**SAFE_PRODUCTION, "CACHES": local}):
        assert check_error_codes().get("hardening.W202") == "WARNING"


def test_safe_defaults_have_no_mfa_messages() -> None:
    with override_settings(**{**SAFE_PRODUCTION, "HARDENING_MFA_REQUIRED": "staff"}):
        codes = check_error_codes()
    assert not [c for c in codes if c.startswith(("hardening.E2", "hardening.W2"))]


def test_a_bad_value_is_named_and_the_default_is_used() -> None:
    with override_settings(HARDENING_MFA_TOTP_TOLERANCE=5, HARDENING_MFA_REQUIRED="admins",
                           HARDENING_LOCKOUT="5 per minute"):  # fmt: skip
        assert conf.HARDENING_MFA_TOTP_TOLERANCE == 0
        assert conf.HARDENING_MFA_REQUIRED == "off"
        lockout = conf.HARDENING_LOCKOUT
        assert lockout is not None and (lockout.limit, lockout.seconds) == (5, 300)
        messages = {m.id: m.msg for m in checks.check_mfa_settings()}
    assert "5" in messages["hardening.E201"] and "admins" in messages["hardening.E203"]
    assert "HARDENING_LOCKOUT" in messages["hardening.E211"]


REMOVED = sorted(MFASettings.removed)


@pytest.mark.parametrize("name", REMOVED)
def test_a_removed_setting_names_its_replacement(name: str) -> None:
    """``HARDENING_MFA_ENABLED``, ``_MFA_CACHE``, the ``LOCKOUT_*`` four and the knobs that
    became constants: each is an Error in production whose hint names what to use."""
    with override_settings(**{**SAFE_PRODUCTION, name: False}):
        found = [m for m in run_checks() if m.id == "hardening.E032" and name in m.msg]
        assert check_error_codes().get("hardening.E032") == "ERROR"
    assert len(found) == 1 and MFASettings.removed[name] in (found[0].hint or "")


def test_mfa_enabled_is_replaced_by_the_policy_and_the_urls() -> None:
    """What ``HARDENING_MFA_ENABLED = False`` did: no MFA check ran.  Its replacement is
    ``HARDENING_MFA_REQUIRED = "off"`` (the default) and no MFA URLs: the checks of the MFA
    values still run, so a bad value is never silently kept."""
    hint = MFASettings.removed["HARDENING_MFA_ENABLED"]
    assert "HARDENING_MFA_REQUIRED = 'off'" in hint and "URLs" in hint
    with override_settings(**{**SAFE_PRODUCTION, "HARDENING_MFA_ENABLED": False,
                              "HARDENING_MFA_TOTP_TOLERANCE": 5}):  # fmt: skip
        codes = check_error_codes()
    assert codes.get("hardening.E032") == "ERROR" and codes.get("hardening.E201") == "ERROR"
    assert "hardening.E208" not in codes  # "required but disabled" cannot happen any more


def test_field_encryption_keys_are_needed_only_where_users_can_enroll() -> None:
    """Without the MFA URLs no TOTP secret is ever encrypted: no E047 for missing keys."""
    without_keys = {**SAFE_PRODUCTION, "HARDENING_FIELD_ENCRYPTION_KEYS": []}
    with override_settings(**without_keys):
        assert check_error_codes().get("hardening.E047") == "ERROR"
    no_fields = mock.patch(
        "hardening.deploy.secrets._encrypted_fields_installed", return_value=False
    )
    with override_settings(**without_keys, ROOT_URLCONF="tests.mfa.urls_without_mfa"):
        with no_fields:
            assert "hardening.E047" not in check_error_codes()
        # A model with encrypted fields (the example's ExchangeCredential) needs them too.
        assert check_error_codes().get("hardening.E047") == "ERROR"


PASSKEY_CASES = [
    ({"HARDENING_WEBAUTHN_RP_ID": None}, ["hardening.E230"]),
    ({"HARDENING_WEBAUTHN_RP_ID": "other.example"}, ["hardening.E231"]),
    (
        {"HARDENING_WEBAUTHN_ORIGINS": ["https://evil.example"]},
        ["hardening.E232"],
    ),
    ({"HARDENING_WEBAUTHN_ORIGINS": ["http://api.example.com"]}, ["hardening.E233"]),
    ({"HARDENING_WEBAUTHN_ORIGINS": ["https://app.api.example.com"]}, ["hardening.W230"]),
    ({"HARDENING_WEBAUTHN_RP_ID": "https://api.example.com"}, ["hardening.E211", "hardening.E230"]),
    ({"HARDENING_MFA_TRUSTED_DEVICE_DAYS": 400}, ["hardening.E211"]),
]


@pytest.mark.parametrize(("overrides", "expected"), PASSKEY_CASES)
def test_passkey_relying_party_checks(overrides: dict[str, Any], expected: list[str]) -> None:
    values = {**SAFE_PRODUCTION, **overrides}
    if values.get("HARDENING_WEBAUTHN_RP_ID") is None:
        values.pop("HARDENING_WEBAUTHN_RP_ID")
    with override_settings(**values):
        codes = check_error_codes()
    found = sorted(c for c in codes if c[len("hardening.") + 1 :].startswith(("2",)))
    assert found == expected
    assert all(codes[c] == ("WARNING" if ".W" in c else "ERROR") for c in expected)


def test_passkeys_off_or_a_parent_domain_are_fine() -> None:
    for rp_id in ("", "example.com", "api.example.com"):
        with override_settings(**{**SAFE_PRODUCTION, "HARDENING_WEBAUTHN_RP_ID": rp_id}):
            assert not [c for c in check_error_codes() if c.startswith("hardening.E23")]
    values = {k: v for k, v in SAFE_PRODUCTION.items() if "WEBAUTHN" not in k}
    with override_settings(**{**values, "HARDENING_ENVIRONMENT": "development"}):
        assert "hardening.E230" not in check_error_codes()  # dev: the page's own host


def test_staff_trusted_devices_warn_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    from hardening.mfa import trusted

    monkeypatch.setattr(trusted, "STAFF_MAY_TRUST", True)
    with override_settings(**SAFE_PRODUCTION, HARDENING_MFA_TRUSTED_DEVICE_DAYS=30):
        assert check_error_codes().get("hardening.W231") == "WARNING"
