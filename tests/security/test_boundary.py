"""Issue 12 item 2: bearer tokens authenticate API views only, never the admin or other
session views (the boundary is ``HARDENING_API_PATHS``, docs/security.md)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory

from hardening.jwt.auth import CredentialMiddleware
from hardening.jwt.tokens import issue_token_pair
from hardening.ratelimit.middleware import _checks
from hardening.ratelimit.policy import parse_policy
from hardening.request import state

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_limits(settings: Any) -> None:
    settings.HARDENING_RATELIMIT_ENABLED = False


def staff(name: str = "boss") -> Any:
    return get_user_model().objects.create_user(
        name, password="pw-not-used-here", is_staff=True, is_superuser=True
    )


def bearer(user: Any, amr: list[str] | None = None) -> dict[str, str]:
    access = issue_token_pair(user, amr=amr or ["pwd", "otp"])["access"]
    return {"Authorization": f"Bearer {access}"}


def test_bearer_token_does_not_open_the_admin(client: Client) -> None:
    user = staff()
    response = client.get("/admin/auth/user/", headers=bearer(user))
    assert response.status_code == 302, response.status_code
    assert response["Location"].startswith("/admin/login/")


def test_bearer_token_does_not_open_the_admin_index_or_mfa_page(client: Client) -> None:
    headers = bearer(staff())
    assert client.get("/admin/", headers=headers).status_code == 302
    page = client.get("/account/mfa/", headers=headers)
    assert page.status_code == 302 and "login" in page["Location"]


def test_bearer_token_still_authenticates_the_api(client: Client) -> None:
    user = staff()
    response = client.get("/api/me", headers=bearer(user))
    assert response.status_code == 200
    assert response.json() == {"sub": str(user.pk), "auth": "jwt", "mfa": True}


def test_session_admin_is_unchanged(client: Client, settings: Any) -> None:
    settings.HARDENING_MFA_REQUIRED = "off"
    client.force_login(staff())
    assert client.get("/admin/auth/user/").status_code == 200


def test_mfa_token_claims_never_verify_a_session_outside_the_api(
    client: Client, settings: Any
) -> None:
    """A password-only session plus another user's MFA bearer token is still unverified."""
    settings.HARDENING_MFA_REQUIRED = "staff"
    client.force_login(staff("session-user"))
    other = bearer(staff("token-user"), amr=["pwd", "otp"])
    response = client.get("/admin/auth/user/", headers={**other, "Accept": "text/html"})
    assert response.status_code == 302
    assert response["Location"].startswith("/account/mfa/")


def test_rate_limit_identity_of_a_bearer_request_outside_the_api() -> None:
    """The verified identity is recorded for per-user limits even where it is not the user."""
    user = staff()
    request = RequestFactory().get("/admin/", headers=bearer(user))
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    CredentialMiddleware(lambda r: None)(request)
    assert not request.user.is_authenticated
    assert state(request).bearer_user.pk == user.pk
    policy = parse_policy({"name": "user", "key": "user", "rates": ["5/m"]})
    checks, identities = _checks(request, [policy])
    assert [c.bucket for c in checks] == [f"u:{user.pk}"]
    assert identities[0] == f"u:{user.pk}"


# -- item 8: the timeout demos are not a denial of service in production ---------------

DEMOS = ("/api/slow", "/api/slow-db")


@pytest.mark.parametrize("path", DEMOS)
def test_demos_are_off_in_production_by_default(client: Client, settings: Any, path: str) -> None:
    settings.HARDENING_ENVIRONMENT = "production"
    settings.HARDENING_MFA_REQUIRED = "off"
    response = client.get(path, {"ms": "1"})
    assert response.status_code == 404, response.status_code
    client.force_login(staff())
    assert client.get(path, {"ms": "1"}).status_code == 404  # off means off, even for staff


@pytest.mark.parametrize("mode", ["staff", "open"])
@pytest.mark.parametrize("path", DEMOS)
def test_demos_enabled_in_production_are_staff_only(
    client: Client, settings: Any, path: str, mode: str
) -> None:
    settings.HARDENING_ENVIRONMENT = "production"
    settings.HARDENING_MFA_REQUIRED = "off"
    settings.DEMO_ENDPOINTS = mode  # "open" is not honoured in production
    assert client.get(path, {"ms": "1"}).status_code == 401
    plain = get_user_model().objects.create_user("plain", password="unused-pw")
    client.force_login(plain)
    assert client.get(path, {"ms": "1"}).status_code == 403
    client.force_login(staff())
    assert client.get(path, {"ms": "1"}).status_code in (200, 501)  # 501: not PostgreSQL
    assert client.get(path, {"ms": "1"}, headers=bearer(staff("bearer-staff"))).status_code in (
        200,
        501,
    )


@pytest.mark.parametrize("path", DEMOS)
def test_demos_stay_open_in_development(client: Client, settings: Any, path: str) -> None:
    settings.HARDENING_ENVIRONMENT = "development"
    assert client.get(path, {"ms": "1"}).status_code in (200, 501)
    settings.DEMO_ENDPOINTS = "off"
    assert client.get(path, {"ms": "1"}).status_code == 404
