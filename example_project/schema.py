"""The example's own API in the OpenAPI document (imported by urls.py when the "openapi"
extra is installed): the way to describe a function view without importing drf-spectacular
in the view module."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers

WHO = inline_serializer(
    "Me",
    {
        "sub": serializers.CharField(),
        "auth": serializers.CharField(),
        "mfa": serializers.BooleanField(),
    },
)


class MeView(OpenApiViewExtension):  # type: ignore[misc]
    target_class = "example_project.views.me"

    def view_replacement(self) -> Any:
        get = extend_schema(operation_id="me", responses={200: WHO}, tags=["example"])
        return type("Me", (self.target,), {"get": get(self.target.get)})


CREDENTIAL_FIELDS: dict[str, Any] = {
    "id": serializers.IntegerField(),
    "exchange": serializers.CharField(),
    "api_key_hint": serializers.CharField(),
    "has_passphrase": serializers.BooleanField(),
    "created_at": serializers.DateTimeField(),
}


class ExchangeCredentialsView(OpenApiViewExtension):  # type: ignore[misc]
    target_class = "example_project.views.ExchangeCredentialsView"

    def view_replacement(self) -> Any:
        from example_project.views import EXCHANGE_FIELDS

        credential = inline_serializer("ExchangeCredential", CREDENTIAL_FIELDS)
        listing = inline_serializer(
            "ExchangeCredentials",
            {
                "credentials": inline_serializer(
                    "ExchangeCredentialItem", CREDENTIAL_FIELDS, many=True
                )
            },
        )
        request = inline_serializer(
            "ExchangeCredentialRequest",
            {
                name: serializers.CharField(max_length=longest, required=name != "passphrase")
                for name, longest in EXCHANGE_FIELDS.items()
            },
        )
        get = extend_schema(
            operation_id="exchange_credentials_list", responses={200: listing}, tags=["example"]
        )
        post = extend_schema(
            operation_id="exchange_credentials_create",
            request=request,
            responses={201: credential},
            tags=["example"],
        )
        return type(
            "ExchangeCredentialsView",
            (self.target,),
            {"get": get(self.target.get), "post": post(self.target.post)},
        )


class ExchangeCredentialView(OpenApiViewExtension):  # type: ignore[misc]
    target_class = "example_project.views.exchange_credential"

    def view_replacement(self) -> Any:
        delete = extend_schema(
            operation_id="exchange_credentials_delete",
            request=None,
            responses={204: None, 404: OpenApiResponse(description="No such credential")},
            tags=["example"],
        )
        return type("ExchangeCredential", (self.target,), {"delete": delete(self.target.delete)})
