"""Scopes, roles and Clerk organisation permissions: the same reading for every credential,
403 JSON naming what is missing, and W801."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client, override_settings
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate

from hardening.apikeys.keys import create_key
from hardening.permissions import (
    HasAnyScope,
    HasOrgPermission,
    HasOrgRole,
    HasRole,
    HasScope,
    roles_of,
    scopes_of,
)
from tests.helpers.checks import check_error_codes, production


def make_view(*permissions: Any) -> Any:
    @api_view(["GET"])
    @permission_classes([IsAuthenticated, *permissions])
    def view(request: Request) -> Response:
        return Response({"scopes": sorted(scopes_of(request)), "roles": sorted(roles_of(request))})

    return view


class Claimed:
    is_authenticated = True
    is_active = True
    pk = "u1"


def call(view: Any, claims: dict[str, Any] | None = None, user: Any = None) -> Any:
    request = APIRequestFactory().get("/api/x")
    force_authenticate(request, user=user or Claimed(), token=claims)
    response = view(request)
    response.render()
    return response


def test_scope_claims_of_every_shape() -> None:
    view = make_view(HasScope("orders:read", "orders:write"))
    for claims in (
        {"scope": "orders:read orders:write other"},
        {"scp": ["orders:read", "orders:write"]},
        {"scp": "orders:read orders:write"},
        {"scopes": ["orders:write", "orders:read"]},
    ):
        assert call(view, claims).status_code == 200, claims


def test_403_names_the_missing_scope() -> None:
    response = call(make_view(HasScope("orders:read", "orders:write")), {"scope": "orders:read"})
    assert response.status_code == 403
    body = response.data
    assert body["error"] == "insufficient_scope"
    assert "'orders:write'" in body["detail"] and "orders:read'" not in body["detail"]
    any_view = make_view(HasAnyScope("a", "b"))
    assert call(any_view, {"scope": "b"}).status_code == 200
    refused = call(any_view, {"scope": "c"})
    assert refused.status_code == 403 and "one of the scopes 'a', 'b'" in refused.data["detail"]


def test_roles_and_clerk_org_claims() -> None:
    assert call(make_view(HasRole("admin")), {"roles": ["admin"]}).status_code == 200
    assert (
        call(make_view(HasRole("admin")), {"realm_access": {"roles": ["admin"]}}).status_code == 200
    )
    assert call(make_view(HasRole("admin")), {"role": "user"}).status_code == 403
    clerk = {"org_role": "org:admin", "org_permissions": ["org:invoices:create"]}
    assert call(make_view(HasOrgRole("org:admin")), clerk).status_code == 200
    assert call(make_view(HasOrgRole("admin")), clerk).status_code == 200
    assert call(make_view(HasOrgPermission("org:invoices:create")), clerk).status_code == 200
    refused = call(make_view(HasOrgPermission("org:invoices:delete")), clerk)
    assert refused.status_code == 403
    assert refused.data["error"] == "insufficient_permission"
    assert "org:invoices:delete" in refused.data["detail"]
    assert call(make_view(HasOrgRole("org:admin")), {"roles": ["org:admin"]}).status_code == 403


def test_permissions_combine() -> None:
    view = make_view(HasScope("a") | HasRole("admin"))
    assert call(view, {"roles": ["admin"]}).status_code == 200
    assert call(view, {"scope": "a"}).status_code == 200
    assert call(view, {"scope": "b"}).status_code == 403


def test_bad_declarations_fail_at_import() -> None:
    with pytest.raises(ValueError):
        HasScope()
    with pytest.raises(ValueError):
        HasRole("")


@pytest.mark.django_db
def test_session_users_roles_are_their_groups() -> None:
    user = get_user_model().objects.create_user("carol")
    user.groups.add(Group.objects.create(name="support"))
    assert call(make_view(HasRole("support")), None, user).status_code == 200
    assert call(make_view(HasScope("a")), None, user).status_code == 403


scoped = make_view(HasScope("orders:write"))
urlpatterns = [path("api/scoped", scoped)]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_api_key_scopes_through_the_whole_stack() -> None:
    user = get_user_model().objects.create_user("dave")
    _, writer = create_key(user=user, scopes=["orders:write"])
    _, reader = create_key(user=user, scopes=["orders:read"])
    assert Client().get("/api/scoped", HTTP_X_API_KEY=writer).json()["scopes"] == ["orders:write"]
    refused = Client().get("/api/scoped", HTTP_AUTHORIZATION=f"Api-Key {reader}")
    assert refused.status_code == 403
    assert refused.json()["error"] == "insufficient_scope"
    assert "orders:write" in refused.json()["detail"] and refused.json()["request_id"]


@override_settings(ROOT_URLCONF=__name__)
def test_w801_scopes_without_a_scoped_credential() -> None:
    from hardening.env import rest_framework_settings

    with production(REST_FRAMEWORK=rest_framework_settings()):
        assert "hardening.W801" not in check_error_codes()
    only_bearer = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["hardening.authentication.BearerTokenAuthentication"]
    }
    with production(REST_FRAMEWORK=rest_framework_settings(**only_bearer)):
        assert check_error_codes().get("hardening.W801") == "WARNING"


@pytest.mark.django_db
def test_machines_only_asks_machines() -> None:
    from hardening.request import Credential, state

    view = make_view(HasScope("exchange:write", machines_only=True))
    assert call(view, {"sub": "person"}).status_code == 200  # a person's token passes

    def as_machine(kind: str, scopes: frozenset[str]) -> Any:
        request = APIRequestFactory().get("/api/x")
        force_authenticate(request, user=Claimed(), token={"sub": "m"})
        state(request).credential = Credential(kind, Claimed(), {"sub": "m"}, scopes)
        response = view(request)
        response.render()
        return response

    refused = as_machine("api_key", frozenset({"read"}))
    assert refused.status_code == 403 and "'exchange:write'" in refused.data["detail"]
    assert as_machine("clerk_machine", frozenset({"exchange:write"})).status_code == 200
