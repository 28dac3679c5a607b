from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path


def ping(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [path("ping", ping)]
