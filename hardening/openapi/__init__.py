"""OpenAPI for django-hardening's API, through drf-spectacular (the ``openapi`` extra).

* :mod:`hardening.openapi.extensions`: ``OpenApiAuthenticationExtension`` for every
  authentication class hardening ships (bearer JWT; an API-key class when present) and
  ``OpenApiViewExtension`` descriptions of the token, refresh, logout and MFA API views.
  ``HardeningConfig.ready`` imports it when drf-spectacular is installed.
* :func:`hardening.openapi.hooks.describe`: a postprocessing hook that adds the JSON error
  schema (``HardeningError``), the 401/403/429/503/504 answers every operation can get
  (``Retry-After`` where one is sent), and the endpoints that are plain Django views
  (``/api/auth/mfa``, ``/.well-known/jwks.json``, ``/csp-report``).
* :func:`spectacular_settings`: ``SPECTACULAR_SETTINGS`` with that hook and the Swagger UI
  served from drf-spectacular-sidecar's static files (no CDN, so the strict CSP holds).
* ``hardening.openapi.urls``: ``api/schema/`` and ``api-docs/`` (Swagger UI, its init script
  a separate same-origin file).

Nothing here is imported by the rest of the package: without the extra, hardening works.
Public: this module's ``__all__`` and ``hardening.openapi.urls`` (docs/api.md); the other
modules are internal.
"""

from __future__ import annotations

from typing import Any

from hardening.extras import installed

__all__ = ["available", "rest_framework_schema", "spectacular_settings"]


def available() -> bool:
    """Is drf-spectacular installed?"""
    return installed("drf_spectacular")


def rest_framework_schema() -> dict[str, Any]:
    """``REST_FRAMEWORK`` entries for drf-spectacular (``{}`` without it)::

    REST_FRAMEWORK = rest_framework_settings(**rest_framework_schema())
    """
    if not available():
        return {}
    return {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}


def spectacular_settings(**overrides: Any) -> dict[str, Any]:
    """``SPECTACULAR_SETTINGS``: hardening's hook after drf-spectacular's own, and the
    Swagger UI from drf-spectacular-sidecar when it is installed."""
    values: dict[str, Any] = {
        "TITLE": "API",
        "VERSION": "1.0.0",
        "SERVE_INCLUDE_SCHEMA": False,
        "POSTPROCESSING_HOOKS": [
            "drf_spectacular.hooks.postprocess_schema_enums",
            "hardening.openapi.hooks.describe",
        ],
        "COMPONENT_SPLIT_REQUEST": True,
    }
    if installed("drf_spectacular_sidecar"):
        values["SWAGGER_UI_DIST"] = "SIDECAR"
        values["SWAGGER_UI_FAVICON_HREF"] = "SIDECAR"
        values["REDOC_DIST"] = "SIDECAR"
    values.update(overrides)
    return values
