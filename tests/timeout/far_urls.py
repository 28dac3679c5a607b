"""A view whose own budget is centuries (``@request_timeout(1e10)``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from hardening.timeout import remaining, request_timeout


@request_timeout(1e10)
def far(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"remaining": remaining()})


urlpatterns = [path("far", far)]
