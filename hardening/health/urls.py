"""Internal: the probes, mounted by ``hardening.urls`` (namespace ``hardening``) at
``health/live`` and ``health/ready``, with or without a trailing slash."""

from __future__ import annotations

from django.urls import re_path

from hardening.health import views

urlpatterns = [
    re_path(r"^health/live/?$", views.live, name="health-live"),
    re_path(r"^health/ready/?$", views.ready, name="health-ready"),
]
