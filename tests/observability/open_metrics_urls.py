"""A URLconf that makes the classic mistake: django-prometheus's /metrics, open to all."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("", include("django_prometheus.urls"))]
