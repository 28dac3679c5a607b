"""A URLconf imported only by ``test_view_policies`` (its decorator runs on first resolve)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from hardening.decorators import rate_limit


@rate_limit("3/m", name="lazy")
def lazy(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [path("lazy/", lazy)]
