"""CredentialMiddleware: sync and async, one verification per request."""

from __future__ import annotations

import sys
from typing import Any
from unittest import mock

import pytest
from asgiref.sync import iscoroutinefunction
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.test import AsyncRequestFactory, Client, RequestFactory

from hardening.jwt import auth
from hardening.jwt.auth import CredentialMiddleware
from hardening.observability.metrics import AUTH_FAILURES
from hardening.request import state
from tests.jwt.helpers import AUDIENCE, OIDC_ISSUER, JWKSServer, claims, sign
from tests.servers import run_until_exit

seen: dict[str, Any] = {}


def view(request: HttpRequest) -> HttpResponse:
    seen["user"] = request.user
    return HttpResponse("ok")


async def async_view(request: HttpRequest) -> HttpResponse:
    seen["user"] = request.user
    return HttpResponse("ok")


def token() -> str:
    return sign(claims(OIDC_ISSUER, aud=AUDIENCE, sub="mw-user"))


def test_sync_sets_user(oidc: JWKSServer) -> None:
    middleware = CredentialMiddleware(view)
    request = RequestFactory().get("/api/", HTTP_AUTHORIZATION=f"Bearer {token()}")
    request.user = AnonymousUser()
    assert middleware(request).status_code == 200
    assert seen["user"].pk == "mw-user"
    assert state(request).auth_kind == "oidc"
    assert state(request).bearer_user == seen["user"]


def test_outside_the_api_paths_the_token_is_only_the_bearer_user(oidc: JWKSServer) -> None:
    middleware = CredentialMiddleware(view)
    request = RequestFactory().get("/admin/", HTTP_AUTHORIZATION=f"Bearer {token()}")
    request.user = mock.sentinel.session_user
    middleware(request)
    assert seen["user"] is mock.sentinel.session_user
    assert state(request).credential is None and state(request).auth_kind is None
    assert state(request).bearer_user.pk == "mw-user"


def test_api_paths_are_the_core_setting(oidc: JWKSServer, settings: Any) -> None:
    settings.HARDENING_API_PATHS = ["/v2/", "^/internal/api/", "^("]  # a bad regex: skipped
    middleware = CredentialMiddleware(view)
    for path, api in [("/v2/me", True), ("/internal/api/x", True), ("/api/me", False)]:
        request = RequestFactory().get(path, HTTP_AUTHORIZATION=f"Bearer {token()}")
        request.user = AnonymousUser()
        middleware(request)
        assert (state(request).credential is not None) is api, path


def test_invalid_token_leaves_anonymous_and_does_not_answer(oidc: JWKSServer) -> None:
    middleware = CredentialMiddleware(view)
    request = RequestFactory().get("/api/", HTTP_AUTHORIZATION="Bearer not.a.token")
    request.user = mock.sentinel.session_user
    assert middleware(request).status_code == 200
    assert isinstance(seen["user"], AnonymousUser)


def test_no_token_is_untouched() -> None:
    middleware = CredentialMiddleware(view)
    request = RequestFactory().get("/")
    request.user = mock.sentinel.session_user
    middleware(request)
    assert seen["user"] is mock.sentinel.session_user


async def test_async_sets_user(oidc: JWKSServer) -> None:
    middleware = CredentialMiddleware(async_view)
    assert iscoroutinefunction(middleware)
    request = AsyncRequestFactory().get("/api/", headers={"Authorization": f"Bearer {token()}"})
    request.user = AnonymousUser()
    response = await middleware(request)
    assert response.status_code == 200
    assert seen["user"].pk == "mw-user"


@pytest.mark.django_db
def test_drf_reuses_the_middleware_result(client: Client, oidc: JWKSServer) -> None:
    with mock.patch.object(auth, "verify_token", wraps=auth.verify_token) as verify:
        response = client.get("/api/me", headers={"Authorization": f"Bearer {token()}"})
    assert response.status_code == 200
    assert verify.call_count == 1


@pytest.mark.django_db
def test_rejection_counted_once(client: Client, oidc: JWKSServer) -> None:
    before = AUTH_FAILURES.labels(reason="malformed")._value.get()
    with mock.patch.object(auth, "verify_token", wraps=auth.verify_token) as verify:
        response = client.get("/api/me", headers={"Authorization": "Bearer a.b"})
    assert response.status_code == 401
    assert verify.call_count == 1
    assert AUTH_FAILURES.labels(reason="malformed")._value.get() == before + 1


@pytest.mark.django_db
def test_middleware_is_wired_before_rate_limit(settings: Any) -> None:
    names = list(settings.MIDDLEWARE)
    ours = names.index("hardening.middleware.CredentialMiddleware")
    assert names.index("django.contrib.auth.middleware.AuthenticationMiddleware") < ours
    assert ours < names.index("hardening.middleware.RateLimitMiddleware")
    apps = list(settings.INSTALLED_APPS)
    assert not [
        app for app in apps if app.startswith(("hardening.jwt", "rest_framework_simplejwt"))
    ]
    classes = settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]
    assert classes[0] == "hardening.authentication.BearerTokenAuthentication"


def test_start_up_never_imports_simplejwt() -> None:
    """simplejwt's settings read SECRET_KEY at import: with an empty one (a production deploy
    that forgot it) nothing at start-up may import it, so hardening.E001 can report it."""
    code = (
        "import sys, django; django.setup(); "
        "from django.core.checks import run_checks; run_checks(); "
        "print(sorted(m for m in sys.modules if m.startswith('rest_framework_simplejwt')))"
    )
    env = {"DJANGO_SETTINGS_MODULE": "example_project.settings", "DJANGO_ENV": "production"}
    done = run_until_exit([sys.executable, "-c", code], env={**env, "SECRET_KEY": ""}, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


# -- a revocation lookup left pending for the rate limiter, settled by someone else ----------


@pytest.fixture
def deferred(settings: Any, monkeypatch: pytest.MonkeyPatch, django_user_model: Any) -> Any:
    """An own access token whose revocation lookup the middleware leaves to the limiter
    (as when the limiter's Redis round trip can carry it: ``auth.deferrable``)."""
    from hardening.jwt.tokens import issue_token_pair

    settings.HARDENING_JWT_REVOKE_ACCESS_TOKENS = True
    monkeypatch.setattr(auth, "deferrable", lambda: True)
    user = django_user_model.objects.create_user("deferred", password="x")
    return issue_token_pair(user, amr=["pwd"])["access"]


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "api"), [("/api/me", True), ("/account/login/", False)])
def test_a_later_caller_settles_a_pending_lookup_and_sees_the_revocation(
    deferred: str, events: Any, path: str, api: bool
) -> None:
    from hardening.jwt.jws import TokenRejected
    from hardening.jwt.tokens import revoke_access_token

    request = RequestFactory().get(path, HTTP_AUTHORIZATION=f"Bearer {deferred}")
    found = auth.authenticate(request, defer_revocation=True)
    assert found is not None and state(request).revocation_pending  # not looked up yet
    revoke_access_token(dict(found.claims))  # e.g. a logout meanwhile
    request.user = found.user
    before = AUTH_FAILURES.labels(reason="revoked")._value.get()
    with pytest.raises(TokenRejected) as info:
        auth.authenticate(request)  # e.g. DRF's authentication, before the limiter ran
    assert info.value.reason == "revoked"
    assert state(request).revocation_pending is None and state(request).bearer is None
    assert AUTH_FAILURES.labels(reason="revoked")._value.get() == before + 1
    assert [f["reason"] for e, f in events if e == "token.rejected"] == ["revoked"]
    # On an API path the token was the request's user: not any more.  Elsewhere the
    # request's user is the session's, which the bearer token never replaced.
    assert isinstance(request.user, AnonymousUser) is api
    with pytest.raises(TokenRejected):  # the rejection sticks for the rest of the request
        auth.authenticate(request)


@pytest.mark.django_db
def test_a_pending_lookup_of_a_token_not_revoked_keeps_the_credential(
    deferred: str, events: Any
) -> None:
    request = RequestFactory().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {deferred}")
    found = auth.authenticate(request, defer_revocation=True)
    assert auth.authenticate(request) is found
    assert state(request).revocation_pending is None
    assert not [e for e, _ in events if e == "token.rejected"]


def test_a_pending_lookup_without_a_credential_is_dropped() -> None:
    request = RequestFactory().get("/api/me")
    state(request).revocation_pending = ["hardening:jwt:revoked:x"]
    auth.settle_revocation(request, revoked=True)
    assert state(request).revocation_pending is None
    assert state(request).credential_error is None
