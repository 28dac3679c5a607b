"""drf-spectacular extensions for hardening's authentication classes and API views
(imported by ``HardeningConfig.ready`` when drf-spectacular is installed)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiViewExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers

from hardening.openapi.hooks import ERROR_RESPONSE


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[misc]
    """``Authorization: Bearer <JWT>``: own tokens, Clerk and OIDC issuers alike."""

    target_class = "hardening.jwt.auth.BearerTokenAuthentication"
    match_subclasses = True  # OwnToken-, Clerk-, OIDCAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        definition: dict[str, Any] = build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix="Bearer",  # noqa: S106 - the scheme name, not a secret
            bearer_format="JWT",
        )
        definition["description"] = (
            "An access token of POST /api/auth/token (or /api/auth/mfa), or of a configured "
            "issuer (Clerk, OIDC). Invalid: 401 with WWW-Authenticate: Bearer."
        )
        return definition


class APIKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[misc]
    """``Authorization: Api-Key <key>`` (DESIGN.md's contract), when this version of hardening
    ships an API-key authentication class."""

    target_class = "hardening.authentication.APIKeyAuthentication"
    optional = True
    match_subclasses = True
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Authorization: Api-Key <key> (manage.py create_api_key).",
        }


class ApiKeyScheme(APIKeyScheme):
    """The same under the other spelling of the class name."""

    target_class = "hardening.authentication.ApiKeyAuthentication"


def _pair(name: str) -> Any:
    return inline_serializer(
        name,
        {"access": serializers.CharField(), "refresh": serializers.CharField()},
    )


TOKEN_REQUEST = inline_serializer(
    "TokenRequest",
    {
        "username": serializers.CharField(max_length=8192),
        "password": serializers.CharField(max_length=8192),
    },
)
REFRESH_REQUEST = inline_serializer(
    "RefreshRequest", {"refresh": serializers.CharField(max_length=8192)}
)
CODE_REQUEST = inline_serializer(
    "MFACodeRequest",
    {
        "code": serializers.CharField(max_length=64),
        "device_id": serializers.IntegerField(required=False),
    },
)
DEVICES = inline_serializer(
    "TOTPDevice",
    {
        "id": serializers.IntegerField(),
        "name": serializers.CharField(),
        "confirmed": serializers.BooleanField(),
        "created_at": serializers.DateTimeField(),
        "last_used_at": serializers.DateTimeField(allow_null=True),
    },
    many=True,
)
RECOVERY = inline_serializer(
    "RecoveryCodes",
    {
        "recovery_codes": serializers.ListField(child=serializers.CharField()),
        "recovery_codes_remaining": serializers.IntegerField(),
    },
)


def _replace(target: Any, methods: dict[str, dict[str, Any]]) -> Any:
    """A subclass of ``target`` whose ``methods`` carry ``extend_schema(**kwargs)``."""
    namespace = {}
    for method, kwargs in methods.items():
        namespace[method] = extend_schema(**kwargs)(getattr(target, method))
    return type(target.__name__, (target,), namespace)


class TokenView(OpenApiViewExtension):  # type: ignore[misc]
    target_class = "hardening.jwt.views.token"

    def view_replacement(self) -> Any:
        return _replace(
            self.target,
            {
                "post": {
                    "operation_id": "auth_token",
                    "summary": "Log in: a token pair, or the MFA step",
                    "request": TOKEN_REQUEST,
                    "responses": {
                        200: OpenApiResponse(
                            _pair("TokenPair"),
                            description="Tokens, or {mfa_required, mfa_token, expires_in} "
                            "when the user has MFA (then POST /api/auth/mfa).",
                        ),
                        400: ERROR_RESPONSE,
                        401: ERROR_RESPONSE,
                    },
                    "auth": [],
                    "tags": ["auth"],
                }
            },
        )


class RefreshView(OpenApiViewExtension):  # type: ignore[misc]
    target_class = "hardening.jwt.views.refresh"

    def view_replacement(self) -> Any:
        return _replace(
            self.target,
            {
                "post": {
                    "operation_id": "auth_token_refresh",
                    "summary": "Rotate a refresh token (a replayed one ends its family)",
                    "request": REFRESH_REQUEST,
                    "responses": {200: _pair("RefreshedPair"), 401: ERROR_RESPONSE},
                    "auth": [],
                    "tags": ["auth"],
                }
            },
        )


class LogoutView(OpenApiViewExtension):  # type: ignore[misc]
    target_class = "hardening.jwt.views.logout"

    def view_replacement(self) -> Any:
        return _replace(
            self.target,
            {
                "post": {
                    "operation_id": "auth_logout",
                    "summary": "End the refresh token's family",
                    "request": REFRESH_REQUEST,
                    "responses": {204: None, 401: ERROR_RESPONSE},
                    "tags": ["auth"],
                }
            },
        )


_CODE_ERRORS = {400: ERROR_RESPONSE, 401: ERROR_RESPONSE, 403: ERROR_RESPONSE}


class TOTPView(OpenApiViewExtension):  # type: ignore[misc]
    target_class = "hardening.mfa.api.TOTPView"

    def view_replacement(self) -> Any:
        listing = inline_serializer(
            "TOTPDevices",
            {
                "devices": DEVICES,
                "recovery_codes_remaining": serializers.IntegerField(),
            },
        )
        created = inline_serializer(
            "TOTPDeviceCreated",
            {
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "secret": serializers.CharField(),
                "otpauth_uri": serializers.CharField(),
                "qr_svg": serializers.CharField(),
            },
        )
        name = inline_serializer(
            "TOTPDeviceRequest", {"name": serializers.CharField(max_length=64, required=False)}
        )
        return _replace(
            self.target,
            {
                "get": {
                    "operation_id": "mfa_totp_list",
                    "responses": {200: listing},
                    "tags": ["mfa"],
                },
                "post": {
                    "operation_id": "mfa_totp_create",
                    "summary": "Start enrolling a TOTP device (confirm it next)",
                    "request": name,
                    "responses": {201: created, 409: ERROR_RESPONSE, **_CODE_ERRORS},
                    "tags": ["mfa"],
                },
                "delete": {
                    "operation_id": "mfa_totp_delete",
                    "summary": "Remove TOTP devices (a current code is required)",
                    "request": CODE_REQUEST,
                    "responses": {204: None, **_CODE_ERRORS},
                    "tags": ["mfa"],
                },
            },
        )


class TOTPConfirmView(OpenApiViewExtension):  # type: ignore[misc]
    target_class = "hardening.mfa.api.TOTPConfirmView"

    def view_replacement(self) -> Any:
        return _replace(
            self.target,
            {
                "post": {
                    "operation_id": "mfa_totp_confirm",
                    "request": CODE_REQUEST,
                    "responses": {200: RECOVERY, 404: ERROR_RESPONSE, **_CODE_ERRORS},
                    "tags": ["mfa"],
                }
            },
        )


class RecoveryCodesView(OpenApiViewExtension):  # type: ignore[misc]
    target_class = "hardening.mfa.api.RecoveryCodesView"

    def view_replacement(self) -> Any:
        remaining = inline_serializer(
            "RecoveryCodesRemaining", {"remaining": serializers.IntegerField()}
        )
        return _replace(
            self.target,
            {
                "get": {
                    "operation_id": "mfa_recovery_codes_remaining",
                    "responses": {200: remaining},
                    "tags": ["mfa"],
                },
                "post": {
                    "operation_id": "mfa_recovery_codes_regenerate",
                    "request": CODE_REQUEST,
                    "responses": {200: RECOVERY, 409: ERROR_RESPONSE, **_CODE_ERRORS},
                    "tags": ["mfa"],
                },
            },
        )
