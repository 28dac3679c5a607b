"""A URLconf without the health probes (hardening.E501)."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import path

urlpatterns = [path("", lambda request: HttpResponse("ok"))]
