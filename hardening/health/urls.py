"""``include("hardening.health.urls")`` mounts ``live`` and ``ready`` (with or without a
trailing slash) under the namespace ``hardening_health``."""

from __future__ import annotations

from django.urls import re_path

from hardening.health import views

app_name = "hardening_health"

urlpatterns = [
    re_path(r"^live/?$", views.live, name="live"),
    re_path(r"^ready/?$", views.ready, name="ready"),
]
