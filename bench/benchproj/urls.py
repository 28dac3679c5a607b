from __future__ import annotations

from django.conf import settings
from django.urls import path

from benchproj import views

if settings.PERF_VARIANT == "all":
    urlpatterns = [path("api/ping", views.dispatch)]
else:
    urlpatterns = [path("api/ping", views.VIEWS[settings.PERF_VARIANT])]
