from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from example_project import views
from hardening import openapi
from hardening.admin import bans_view as ratelimit_bans

if openapi.available():
    from example_project import schema  # noqa: F401 - registers the description of /api/me

handler400 = "hardening.errors.handler400"
handler403 = "hardening.errors.handler403"
handler404 = "hardening.errors.handler404"
handler500 = "hardening.errors.handler500"

urlpatterns = [
    path("admin/ratelimit/bans/", ratelimit_bans, name="ratelimit-bans"),
    path("admin/", admin.site.urls),
    path("api/me", views.me, name="me"),
    path(
        "api/exchange-credentials",
        views.ExchangeCredentialsView.as_view(),
        name="exchange-credentials",
    ),
    path(
        "api/exchange-credentials/<int:pk>",
        views.exchange_credential,
        name="exchange-credential",
    ),
    path("api/slow", views.slow, name="slow"),
    path("api/slow-db", views.slow_db, name="slow-db"),
    # api/auth/..., api/mfa/..., account/{mfa,login,logout}/, metrics, health/{live,ready}
    path("", include("hardening.urls")),
    # /api/schema/ and /api-docs/ with the "openapi" extra (docs/openapi.md)
    *([path("", include("hardening.openapi.urls"))] if openapi.available() else []),
    path("", views.index, name="index"),
]
