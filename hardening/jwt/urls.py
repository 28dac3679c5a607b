"""Mount under ``api/auth/``: ``path("api/auth/", include("hardening.jwt.urls"))``."""

from __future__ import annotations

from django.urls import path

from hardening.jwt import views

app_name = "hardening_jwt"

urlpatterns = [
    path("token", views.token, name="token"),
    path("token/refresh", views.refresh, name="token_refresh"),
    path("logout", views.logout, name="logout"),
]
