"""``api/schema/`` (the OpenAPI document) and ``api-docs/`` (Swagger UI from
drf-spectacular-sidecar's static files, its init code a same-origin script, so scripts stay
``'self'`` only)::

    urlpatterns += [path("", include("hardening.openapi.urls"))]

Swagger UI sets inline styles and draws its icons from ``data:`` SVGs (measured in Chromium:
three style and two image violations under ``default-src 'self'``), so the docs page alone
gets the project's HTML policy plus :data:`DOCS_RELAXATIONS`; scripts are not relaxed.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from hardening.headers.conf import conf as headers
from hardening.headers.csp import HEADER, SELF, build_policy

__all__ = ["urlpatterns"]

#: What the Swagger UI page needs beyond the HTML policy (styles and images only).
DOCS_RELAXATIONS: dict[str, list[str]] = {
    "style-src": [SELF, "'unsafe-inline'"],
    "img-src": [SELF, "data:"],
}

_swagger = SpectacularSwaggerSplitView.as_view(url_name="hardening-openapi-schema")


def swagger(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
    response: HttpResponseBase = _swagger(request, *args, **kwargs)
    if "script" not in request.GET:  # the page, not its init script
        response[HEADER] = build_policy({**headers.HARDENING_CSP, **DOCS_RELAXATIONS})
    return response


urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="hardening-openapi-schema"),
    # outside HARDENING_API_PATHS: an HTML page under the HTML policy
    path("api-docs/", swagger, name="hardening-openapi-docs"),
]
