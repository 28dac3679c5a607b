"""RequireMFA, RequireRecentAuth, MFAPolicy and the decorators."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from hardening.mfa.decorators import mfa_required, recent_auth_required
from hardening.mfa.permissions import MFAPolicy, RequireMFA, RequireRecentAuth
from hardening.mfa.policy import SESSION_KEY, auth_time, is_mfa_verified
from hardening.request import Credential, state
from tests.helpers.clock import FakeClock

pytestmark = pytest.mark.django_db


class Staff:
    pk = 7
    is_authenticated = True
    is_staff = True
    is_superuser = False


class Member(Staff):
    is_staff = False


def request(
    claims: dict[str, Any] | None = None,
    session: dict[str, Any] | None = None,
    user: Any = None,
) -> Any:
    req = RequestFactory().get("/")
    req.user = user or Staff()
    req.session = SessionStore()
    for key, value in (session or {}).items():
        req.session[key] = value
    if claims is not None:  # what hardening.jwt's middleware records for a bearer token
        state(req).credential = Credential(kind="jwt", user=req.user, claims=claims)
    return req


def test_claims_decide_for_token_requests(clock: FakeClock) -> None:
    now = int(clock.t)
    assert is_mfa_verified(request({"amr": ["pwd", "otp"], "auth_time": now}))
    assert is_mfa_verified(request({"amr": ["pwd", "mfa"], "auth_time": now}))
    assert not is_mfa_verified(request({"amr": ["pwd"], "auth_time": now}))
    assert not is_mfa_verified(request({"amr": "otp"}))  # must be a list
    assert not is_mfa_verified(request({}))
    # A verified session does not upgrade a token without MFA.
    session = {SESSION_KEY: {"user": "7", "at": now}}
    assert not is_mfa_verified(request({"amr": ["pwd"]}, session))
    assert auth_time(request({"amr": ["pwd"], "auth_time": now})) is None


def test_session_flag_is_bound_to_the_user(clock: FakeClock) -> None:
    now = int(clock.t)
    assert is_mfa_verified(request(session={SESSION_KEY: {"user": "7", "at": now}}))
    assert not is_mfa_verified(request(session={SESSION_KEY: {"user": "8", "at": now}}))
    assert not is_mfa_verified(request(session={SESSION_KEY: "yes"}))


def test_require_recent_auth(clock: FakeClock) -> None:
    perm = RequireRecentAuth(300)()
    at = int(clock.t)
    req = request({"amr": ["pwd", "otp"], "auth_time": at})
    assert perm.has_permission(req, None)
    clock.advance(301)
    assert not perm.has_permission(req, None)
    assert not perm.has_permission(request({"amr": ["pwd"], "auth_time": at + 300}), None)
    assert RequireMFA().has_permission(req, None)
    assert not RequireMFA().has_permission(request({"amr": ["pwd"]}), None)


def test_mfa_policy_permission() -> None:
    plain = request({"amr": ["pwd"]})
    view = type("V", (), {})()
    exempt = type("E", (), {"mfa_exempt": True})()
    with override_settings(HARDENING_MFA_REQUIRED="off"):
        assert MFAPolicy().has_permission(plain, view)
    with override_settings(HARDENING_MFA_REQUIRED="staff"):
        assert not MFAPolicy().has_permission(plain, view)
        assert MFAPolicy().has_permission(plain, exempt)
        assert MFAPolicy().has_permission(request({"amr": ["pwd", "otp"]}), view)


@pytest.mark.parametrize(
    ("setting", "staff_refused", "member_refused"),
    [("off", False, False), ("staff", True, False), ("all", True, True)],
)
def test_mfa_required_setting_decides_who_must_use_mfa(
    setting: str, staff_refused: bool, member_refused: bool
) -> None:
    from hardening.mfa.middleware import MFAMiddleware

    middleware = MFAMiddleware(lambda req: HttpResponse("ok"))
    view = type("V", (), {})()
    with override_settings(HARDENING_MFA_REQUIRED=setting):
        for user, refused in ((Staff(), staff_refused), (Member(), member_refused)):
            plain = request({"amr": ["pwd"]}, user=user)
            assert MFAPolicy().has_permission(plain, view) is not refused
            assert middleware(plain).status_code == (403 if refused else 200)
            verified = request({"amr": ["pwd", "otp"]}, user=user)
            assert MFAPolicy().has_permission(verified, view)
            assert middleware(verified).status_code == 200


def test_decorators(clock: FakeClock) -> None:
    @mfa_required
    def view(req: Any) -> HttpResponse:
        return HttpResponse("ok")

    @recent_auth_required(60)
    def sensitive(req: Any) -> HttpResponse:
        return HttpResponse("ok")

    at = int(clock.t)
    assert view(request({"amr": ["pwd", "otp"], "auth_time": at})).status_code == 200
    assert view(request({"amr": ["pwd"]})).status_code == 403
    assert sensitive(request({"amr": ["pwd", "otp"], "auth_time": at})).status_code == 200
    clock.advance(61)
    refused = sensitive(request({"amr": ["pwd", "otp"], "auth_time": at}))
    assert refused.status_code == 403 and b"mfa_step_up_required" in refused.content
    anonymous = RequestFactory().get("/")
    anonymous.user = AnonymousUser()
    assert view(anonymous).status_code == 401


@override_settings(HARDENING_MFA_REQUIRED="staff")
async def test_policy_middleware_async_and_sync(clock: FakeClock) -> None:
    from asgiref.sync import iscoroutinefunction

    from hardening.mfa.middleware import MFAMiddleware

    async def async_view(req: Any) -> HttpResponse:
        return HttpResponse("ok")

    middleware = MFAMiddleware(async_view)
    assert iscoroutinefunction(middleware)
    refused = await middleware(request({"amr": ["pwd"]}))
    assert refused.status_code == 403
    allowed = await middleware(request({"amr": ["pwd", "otp"], "auth_time": int(clock.t)}))
    assert allowed.status_code == 200
    sync = MFAMiddleware(lambda req: HttpResponse("ok"))
    assert sync(request({"amr": ["pwd"]})).status_code == 403
    exempt = request({"amr": ["pwd"]})
    exempt.path = "/api/mfa/totp"
    assert sync(exempt).status_code == 200
