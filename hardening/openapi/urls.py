"""``api/schema/`` (the OpenAPI document) and ``api-docs/`` (Swagger UI from
drf-spectacular-sidecar's static files, its init code a same-origin script, so scripts stay
``'self'`` only)::

    urlpatterns += [path("", include("hardening.openapi.urls"))]

The one inline style was drf-spectacular's page template (a ``<style>`` element); hardening's
template (``hardening/openapi/swagger_ui.html``) links the same rules as a static file, so
styles stay ``'self'`` only.  Swagger UI draws its icons from ``data:`` SVGs (its CSS and its
bundle), so the docs page alone gets the project's HTML policy plus
:data:`DOCS_RELAXATIONS` (``img-src data:``); scripts and styles are not relaxed.
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

#: What the Swagger UI page needs beyond the HTML policy: its ``data:`` SVG icons, nothing else.
DOCS_RELAXATIONS: dict[str, list[str]] = {
    "img-src": [SELF, "data:"],
}

_swagger = SpectacularSwaggerSplitView.as_view(
    url_name="hardening-openapi-schema", template_name="hardening/openapi/swagger_ui.html"
)


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
