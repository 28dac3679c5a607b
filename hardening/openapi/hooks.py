"""The postprocessing hook (``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``): the answers
hardening's middleware can give any operation, in hardening's one JSON error shape, and the
endpoints that are plain Django views (drf-spectacular only sees DRF views)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ERROR = "HardeningError"
_REF = {"$ref": f"#/components/schemas/{ERROR}"}

#: ``{"error", "detail", "request_id"}`` (hardening.errors.error_body; some answers add
#: fields, e.g. ``attempts_left``).
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {"type": "string", "description": "A stable code, e.g. rate_limited."},
        "detail": {"type": "string"},
        "request_id": {"type": "string", "nullable": True},
    },
    "required": ["error", "detail", "request_id"],
}
ERROR_RESPONSE = OpenApiResponse(
    inline_serializer(
        ERROR,
        {
            "error": serializers.CharField(),
            "detail": serializers.CharField(),
            "request_id": serializers.CharField(allow_null=True),
        },
    ),
    description="hardening's JSON error",
)

_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
_CHALLENGE = {
    "WWW-Authenticate": {"schema": {"type": "string"}, "description": 'Bearer realm="api"'}
}
#: Status → (description, headers): what the middleware answers on any operation.
EVERYWHERE: dict[str, tuple[str, dict[str, Any]]] = {
    "429": ("Rate limited (RateLimitMiddleware) or an account locked.", _RETRY_AFTER),
    "503": ("A dependency is down (database, cache breaker).", _RETRY_AFTER),
    "504": ("The request passed its deadline (TimeoutMiddleware).", {}),
}
WITH_BODY: dict[str, tuple[str, dict[str, Any]]] = {
    "400": ("The body is not what the operation takes.", {}),
    "415": ("The body is not JSON.", {}),
}
AUTHENTICATED: dict[str, tuple[str, dict[str, Any]]] = {
    "401": ("No valid credentials (an invalid bearer token is always 401).", _CHALLENGE),
    "403": ("Authenticated but not allowed (MFA policy, permissions).", {}),
}


def _response(description: str, headers: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _REF}},
    }
    if headers:
        found["headers"] = headers
    return found


def _json(schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _plain_views() -> dict[str, dict[str, Any]]:
    """The plain Django views of ``hardening.urls``, by path (those that are mounted)."""
    from django.urls import NoReverseMatch, reverse

    def path(name: str) -> str | None:
        try:
            return reverse(f"hardening:{name}")
        except NoReverseMatch:
            return None

    pair = {"$ref": "#/components/schemas/TokenPair"}
    views: dict[str, dict[str, Any]] = {}
    mfa = path("mfa-login")
    if mfa:
        body = {
            "type": "object",
            "properties": {
                "mfa_token": {"type": "string", "maxLength": 128},
                "code": {"type": "string", "maxLength": 64},
            },
            "required": ["mfa_token", "code"],
        }
        views[mfa] = {
            "post": {
                "operationId": "auth_mfa",
                "summary": "The MFA step of the token login: a TOTP or recovery code",
                "tags": ["auth"],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": body}},
                },
                "responses": {
                    "200": _json(pair, "Tokens"),
                    "401": _response("Invalid MFA token or code.", {}),
                },
            }
        }
    jwks = path("jwks")
    if jwks:
        views[jwks] = {
            "get": {
                "operationId": "jwks",
                "summary": "The public keys of the own tokens (RFC 7517)",
                "tags": ["auth"],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {"keys": {"type": "array", "items": {"type": "object"}}},
                            "required": ["keys"],
                        },
                        "A JWK set",
                    )
                },
            }
        }
    report = path("csp-report")
    if report:
        schema = {"type": "object"}
        views[report] = {
            "post": {
                "operationId": "csp_report",
                "summary": "Content-Security-Policy violation reports (browsers post here)",
                "tags": ["security"],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/csp-report": {"schema": schema},
                        "application/reports+json": {"schema": {"type": "array"}},
                    },
                },
                "responses": {
                    "204": {"description": "Accepted"},
                    "413": _response("Too large.", {}),
                },
            }
        }
    return views


def describe(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(ERROR, ERROR_SCHEMA)
    schemas.setdefault(
        "TokenPair",
        {
            "type": "object",
            "properties": {"access": {"type": "string"}, "refresh": {"type": "string"}},
            "required": ["access", "refresh"],
        },
    )
    schemas.setdefault(
        "MFAChallenge",
        {
            "type": "object",
            "properties": {
                "mfa_required": {"type": "boolean"},
                "mfa_token": {"type": "string"},
                "expires_in": {"type": "integer"},
            },
            "required": ["mfa_required", "mfa_token", "expires_in"],
        },
    )
    paths = result.setdefault("paths", {})
    for path, item in _plain_views().items():
        paths.setdefault(path, item)
    for item in paths.values():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            answers = dict(EVERYWHERE)
            if "requestBody" in operation:
                answers.update(WITH_BODY)
            if operation.get("security"):
                answers.update(AUTHENTICATED)
            responses = operation.setdefault("responses", {})
            for status, (description, headers) in answers.items():
                responses.setdefault(status, _response(description, headers))
            for status, response in responses.items():
                if status == "429" and "headers" not in response:
                    response["headers"] = _RETRY_AFTER
                if status == "401" and operation.get("security") and "headers" not in response:
                    response["headers"] = _CHALLENGE
    token = paths.get("/api/auth/token", {}).get("post")
    if token is not None:  # tokens, or the MFA step
        content = token["responses"]["200"]["content"]["application/json"]
        content["schema"] = {
            "oneOf": [content["schema"], {"$ref": "#/components/schemas/MFAChallenge"}]
        }
    return result
