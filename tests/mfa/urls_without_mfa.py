from __future__ import annotations

from django.urls import path

from example_project import views

urlpatterns = [path("api/me", views.me)]
