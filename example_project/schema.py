"""The example's own API in the OpenAPI document (imported by urls.py when the "openapi"
extra is installed): the way to describe a function view without importing drf-spectacular
in the view module."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.utils import extend_schema, inline_serializer
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
