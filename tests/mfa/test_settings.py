"""The MFA room's settings reader, its lockout rate, and the one MFA rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from hardening.conf.base import Reader
from hardening.mfa import lockout, policy
from hardening.mfa.conf import DEFAULT_EXEMPT_PATHS, MFASettings, conf
from hardening.mfa.decorators import mfa_required, recent_auth_required
from hardening.mfa.middleware import MFAMiddleware
from hardening.mfa.permissions import MFAPolicy, RequireMFA, RequireRecentAuth
from hardening.request import state

DOCS = Path(__file__).resolve().parents[2] / "docs"
SETTINGS = {
    "HARDENING_MFA_REQUIRED",
    "HARDENING_MFA_ISSUER",
    "HARDENING_MFA_EXEMPT_PATHS",
    "HARDENING_MFA_TOTP_TOLERANCE",
    "HARDENING_LOCKOUT",
    "HARDENING_WEBAUTHN_RP_ID",
    "HARDENING_WEBAUTHN_ORIGINS",
    "HARDENING_MFA_TRUSTED_DEVICE_DAYS",
}


def test_the_reader_declares_the_rooms_settings_and_nothing_else() -> None:
    assert set(MFASettings.declared()) == SETTINGS
    assert MFASettings.__bases__ == (Reader,)  # no rate-limit settings inherited
    assert not hasattr(conf, "HARDENING_RATELIMIT_CACHE")


@pytest.mark.parametrize("page", ["settings.md", "mfa.md"])
def test_every_setting_is_documented(page: str) -> None:
    text = (DOCS / page).read_text()
    assert not [name for name in SETTINGS if f"`{name}`" not in text]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5/5m", (5, 300)), ("10/15m", (10, 900)), ("3/h", (3, 3600)), ((2, 60), (2, 60))],
)
def test_lockout_is_a_rate(value: object, expected: tuple[int, int]) -> None:
    with override_settings(HARDENING_LOCKOUT=value):
        rate = conf.HARDENING_LOCKOUT
        assert rate is not None and (rate.limit, rate.seconds) == expected
        assert lockout.lock_seconds(rate) == min(expected[1], lockout.MAX_LOCK_SECONDS)
        assert conf.problems() == []


def test_lockout_none_turns_the_lock_off() -> None:
    with override_settings(HARDENING_LOCKOUT=None):
        assert conf.HARDENING_LOCKOUT is None
        lockout.record_failure("alice")
        assert lockout.blocked_for("alice") == 0


def test_the_default_exempt_paths_are_a_fresh_list() -> None:
    conf.HARDENING_MFA_EXEMPT_PATHS.append("/everything/")
    assert conf.HARDENING_MFA_EXEMPT_PATHS == DEFAULT_EXEMPT_PATHS


@pytest.mark.django_db
def test_a_locked_account_leaves_its_wait_in_the_request_state(
    django_user_model: Any,
) -> None:
    from django.contrib.auth import authenticate

    django_user_model.objects.create_user("bob", password="x" * 12)
    with override_settings(HARDENING_LOCKOUT="2/5m"):
        for _ in range(2):
            lockout.record_failure("bob")
        request = RequestFactory().post("/admin/login/")
        assert authenticate(request, username="bob", password="x" * 12) is None
    wait = state(request).lockout_wait
    assert wait is not None and 0 < wait <= 300
    assert "hardening_lockout_retry" not in request.__dict__  # no loose attribute


class Staff:
    pk = 7
    is_authenticated = True
    is_staff = True
    is_superuser = False


def _request() -> Any:
    req = RequestFactory().get("/api/payouts", headers={"Accept": "application/json"})
    req.user = Staff()
    req.session = SessionStore()
    return req


@override_settings(HARDENING_MFA_REQUIRED="staff")
@pytest.mark.parametrize("verified", [True, False])
def test_middleware_permissions_and_decorators_ask_the_one_rule(
    monkeypatch: pytest.MonkeyPatch, verified: bool
) -> None:
    """Change what :mod:`hardening.mfa.policy` decides, and every enforcement point follows."""
    monkeypatch.setattr(policy, "is_mfa_verified", lambda request: verified)
    monkeypatch.setattr(policy, "is_recent", lambda request, seconds: verified)
    view = type("V", (), {})()

    @mfa_required
    def page(request: Any) -> HttpResponse:
        return HttpResponse("ok")

    sensitive = recent_auth_required(60)(page)
    middleware = MFAMiddleware(lambda request: HttpResponse("ok"))
    answers = {
        "middleware": middleware(_request()).status_code == 200,
        "MFAPolicy": MFAPolicy().has_permission(_request(), view),
        "RequireMFA": RequireMFA().has_permission(_request(), view),
        "RequireRecentAuth": RequireRecentAuth(60)().has_permission(_request(), view),
        "mfa_required": page(_request()).status_code == 200,
        "recent_auth_required": sensitive(_request()).status_code == 200,
    }
    assert answers == dict.fromkeys(answers, verified)


def test_the_rule_for_anonymous_requests() -> None:
    anonymous = RequestFactory().get("/")
    anonymous.user = AnonymousUser()
    with override_settings(HARDENING_MFA_REQUIRED="all"):
        assert policy.refusal(anonymous) is None  # the policy covers signed-in users
    assert policy.refusal(anonymous, demand=True) == policy.NOT_AUTHENTICATED
    assert policy.refusal(anonymous, within=60) == policy.NOT_AUTHENTICATED


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("HARDENING_MFA_EXEMPT_PATHS", ["/health/", "api/"], "'api/' is not a path prefix"),
        ("HARDENING_WEBAUTHN_RP_ID", "203.0.113.7", "is not a domain name"),
        ("HARDENING_WEBAUTHN_RP_ID", "[::1]", "is not a domain name"),
        ("HARDENING_WEBAUTHN_RP_ID", "https://example.com", "is not a domain name"),
        ("HARDENING_WEBAUTHN_ORIGINS", ["example.com"], "is not an origin"),
        ("HARDENING_WEBAUTHN_ORIGINS", ["ftp://example.com"], "is not an origin"),
        ("HARDENING_WEBAUTHN_ORIGINS", ["https://example.com/app"], "is not an origin"),
        ("HARDENING_MFA_TRUSTED_DEVICE_DAYS", 366, "at most 365 days"),
    ],
)
def test_unusable_passkey_and_path_settings_are_named(name: str, value: Any, why: str) -> None:
    with override_settings(**{name: value}):
        [(found, message)] = conf.problems()
    assert found == name and why in message


def test_usable_passkey_and_path_settings() -> None:
    with override_settings(
        HARDENING_MFA_EXEMPT_PATHS=["/health/"],
        HARDENING_WEBAUTHN_RP_ID="Example.COM.",
        HARDENING_WEBAUTHN_ORIGINS=["https://example.com/", "http://localhost:8000"],
    ):
        assert conf.problems() == []
        assert conf.HARDENING_MFA_EXEMPT_PATHS == ["/health/"]
        assert conf.HARDENING_WEBAUTHN_RP_ID == "example.com"  # normalised
        assert conf.HARDENING_WEBAUTHN_ORIGINS == ["https://example.com", "http://localhost:8000"]
    with override_settings(HARDENING_WEBAUTHN_RP_ID=None):
        assert conf.HARDENING_WEBAUTHN_RP_ID is None  # unset: derived from the request
