"""``api/schema/`` (the OpenAPI document) and ``api-docs/`` (Swagger UI from
drf-spectacular-sidecar's static files, its init script a same-origin file so the strict
CSP needs no ``'unsafe-inline'``)::

    urlpatterns += [path("", include("hardening.openapi.urls"))]
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("api/schema/", SpectacularAPIView.as_view(), name="openapi-schema"),
    path(
        "api-docs/",  # outside HARDENING_API_PATHS: an HTML page under the HTML policy
        SpectacularSwaggerSplitView.as_view(url_name="openapi-schema"),
        name="openapi-docs",
    ),
]
