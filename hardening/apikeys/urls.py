"""URLs of the API-key management API (mounted by ``hardening.urls``)."""

from __future__ import annotations

from django.urls import path

from hardening.apikeys.api import KeysView, KeyView, RotateView

urlpatterns = [
    path("api/keys", KeysView.as_view(), name="api-keys"),
    path("api/keys/<str:public_id>", KeyView.as_view(), name="api-key"),
    path("api/keys/<str:public_id>/rotate", RotateView.as_view(), name="api-key-rotate"),
]
