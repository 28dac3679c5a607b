"""Internal: the token endpoints, mounted by ``hardening.urls`` (namespace ``hardening``)."""

from __future__ import annotations

from django.urls import path

from hardening.jwt import views

urlpatterns = [
    path("api/auth/token", views.token, name="token"),
    path("api/auth/token/refresh", views.refresh, name="token-refresh"),
    path("api/auth/logout", views.logout, name="token-logout"),
    path(".well-known/jwks.json", views.jwks, name="jwks"),
]
