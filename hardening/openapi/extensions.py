"""drf-spectacular extensions for hardening's authentication classes and API views
(imported by ``HardeningConfig.ready`` when drf-spectacular is installed): the token,
refresh and logout views, the MFA API (TOTP, recovery codes), the passkey enrolment API
(``/api/mfa/webauthn``) and the API-key API (``/api/keys``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiViewExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
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


# -- passkeys (hardening.mfa.passkey_views): enrolment and removal ------------------------

PASSKEYS = inline_serializer(
    "Passkeys",
    {
        "passkeys": inline_serializer(
            "Passkey",
            {
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "synced": serializers.BooleanField(),
                "created_at": serializers.DateTimeField(),
                "last_used_at": serializers.DateTimeField(allow_null=True),
            },
            many=True,
        )
    },
)
#: ``{"publicKey": ...}``: WebAuthn options for ``navigator.credentials.create()``.
PASSKEY_OPTIONS = inline_serializer(
    "PasskeyCreationOptions", {"publicKey": serializers.DictField()}
)
_PASSKEY_ERRORS = {
    400: ERROR_RESPONSE,
    401: ERROR_RESPONSE,
    403: ERROR_RESPONSE,
    409: ERROR_RESPONSE,
    503: ERROR_RESPONSE,
}


class PasskeysView(OpenApiViewExtension):  # type: ignore[misc]
    target_class = "hardening.mfa.passkey_views.PasskeysView"

    def view_replacement(self) -> Any:
        remove = inline_serializer("PasskeyRemoval", {"id": serializers.IntegerField()})
        return _replace(
            self.target,
            {
                "get": {
                    "operation_id": "mfa_passkeys_list",
                    "responses": {200: PASSKEYS},
                    "tags": ["mfa"],
                },
                "delete": {
                    "operation_id": "mfa_passkeys_delete",
                    "summary": "Remove a passkey (an MFA-verified caller)",
                    "request": remove,
                    "responses": {204: None, 404: ERROR_RESPONSE, **_CODE_ERRORS},
                    "tags": ["mfa"],
                },
            },
        )


class PasskeyRegisterOptionsView(OpenApiViewExtension):  # type: ignore[misc]
    target_class = "hardening.mfa.passkey_views.RegisterOptionsView"

    def view_replacement(self) -> Any:
        return _replace(
            self.target,
            {
                "post": {
                    "operation_id": "mfa_passkeys_register_options",
                    "summary": "Start enrolling a passkey: the creation options",
                    "request": None,
                    "responses": {200: PASSKEY_OPTIONS, **_PASSKEY_ERRORS},
                    "tags": ["mfa"],
                }
            },
        )


class PasskeyRegisterView(OpenApiViewExtension):  # type: ignore[misc]
    target_class = "hardening.mfa.passkey_views.RegisterView"

    def view_replacement(self) -> Any:
        request = inline_serializer(
            "PasskeyRegistration",
            {
                "name": serializers.CharField(max_length=64, required=False),
                "credential": serializers.DictField(
                    help_text="The PublicKeyCredential of navigator.credentials.create()"
                ),
            },
        )
        created = inline_serializer(
            "PasskeyCreated",
            {
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "recovery_codes": serializers.ListField(
                    child=serializers.CharField(),
                    help_text="New recovery codes when the user had none (shown once)",
                ),
            },
        )
        return _replace(
            self.target,
            {
                "post": {
                    "operation_id": "mfa_passkeys_register",
                    "summary": "Finish enrolling a passkey (the browser's credential)",
                    "request": request,
                    "responses": {201: created, **_PASSKEY_ERRORS},
                    "tags": ["mfa"],
                }
            },
        )


# -- API keys (hardening.apikeys.api) ------------------------------------------------------

_KEY_FIELDS: dict[str, Any] = {
    "public_id": serializers.CharField(),
    "name": serializers.CharField(),
    "scopes": serializers.ListField(child=serializers.CharField()),
    "created_at": serializers.DateTimeField(),
    "expires_at": serializers.DateTimeField(allow_null=True),
    "last_used_at": serializers.DateTimeField(allow_null=True),
    "revoked": serializers.BooleanField(),
}
_SECRET = serializers.CharField(help_text="The key itself: shown this once, never again")
_PUBLIC_ID = OpenApiParameter("public_id", str, OpenApiParameter.PATH)
#: Every key call needs an MFA-verified caller (403 otherwise).
_KEY_ERRORS = {401: ERROR_RESPONSE, 403: ERROR_RESPONSE}


class KeysView(OpenApiViewExtension):  # type: ignore[misc]
    target_class = "hardening.apikeys.api.KeysView"

    def view_replacement(self) -> Any:
        from hardening.apikeys.api import MAX_EXPIRES_DAYS

        listing = inline_serializer(
            "APIKeys", {"keys": inline_serializer("APIKey", _KEY_FIELDS, many=True)}
        )
        request = inline_serializer(
            "APIKeyRequest",
            {
                "name": serializers.CharField(max_length=100, required=False),
                "scopes": serializers.ListField(
                    child=serializers.CharField(), max_length=50, required=False
                ),
                "expires_days": serializers.IntegerField(
                    min_value=1, max_value=MAX_EXPIRES_DAYS, required=False
                ),
            },
        )
        created = inline_serializer("APIKeyCreated", {**_KEY_FIELDS, "key": _SECRET})
        return _replace(
            self.target,
            {
                "get": {
                    "operation_id": "api_keys_list",
                    "summary": "The caller's API keys (never a key, never a hash)",
                    "responses": {200: listing, **_KEY_ERRORS},
                    "tags": ["api-keys"],
                },
                "post": {
                    "operation_id": "api_keys_create",
                    "summary": "Make an API key (its value is in this answer only)",
                    "request": request,
                    "responses": {
                        201: created,
                        400: ERROR_RESPONSE,
                        409: ERROR_RESPONSE,
                        **_KEY_ERRORS,
                    },
                    "tags": ["api-keys"],
                },
            },
        )


class KeyView(OpenApiViewExtension):  # type: ignore[misc]
    target_class = "hardening.apikeys.api.KeyView"

    def view_replacement(self) -> Any:
        return _replace(
            self.target,
            {
                "delete": {
                    "operation_id": "api_keys_revoke",
                    "summary": "Revoke one of the caller's API keys",
                    "parameters": [_PUBLIC_ID],
                    "request": None,
                    "responses": {204: None, 404: ERROR_RESPONSE, **_KEY_ERRORS},
                    "tags": ["api-keys"],
                }
            },
        )


class RotateView(OpenApiViewExtension):  # type: ignore[misc]
    target_class = "hardening.apikeys.api.RotateView"

    def view_replacement(self) -> Any:
        from hardening.apikeys.api import MAX_OVERLAP_HOURS

        hours = serializers.IntegerField(min_value=0, max_value=MAX_OVERLAP_HOURS, required=False)
        request = inline_serializer("APIKeyRotation", {"overlap_hours": hours})
        rotated = inline_serializer(
            "APIKeyRotated", {**_KEY_FIELDS, "key": _SECRET, "replaces": serializers.CharField()}
        )
        return _replace(
            self.target,
            {
                "post": {
                    "operation_id": "api_keys_rotate",
                    "summary": "A new key; the old one keeps working for the overlap",
                    "parameters": [_PUBLIC_ID],
                    "request": request,
                    "responses": {
                        201: rotated,
                        400: ERROR_RESPONSE,
                        404: ERROR_RESPONSE,
                        **_KEY_ERRORS,
                    },
                    "tags": ["api-keys"],
                }
            },
        )
