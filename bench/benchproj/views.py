"""The same ``GET /api/ping`` endpoint in each variant's clothes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import method_decorator
from django.utils.module_loading import import_string
from django_ratelimit.decorators import ratelimit
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

PEER_RATE = "1000000000/m"  # counted in Redis on every request, never blocking
BODY = {"ping": "pong"}


class BarePing(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response(BODY)


class PeerPing(APIView):
    permission_classes = [IsAuthenticated]

    @method_decorator(ratelimit(group="ping", key="user", rate=PEER_RATE, block=True))
    def get(self, request: Request) -> Response:
        return Response(BODY)


class HardeningPing(APIView):
    def get(self, request: Request) -> Response:
        return Response(BODY)


def _configure() -> None:
    """Resolve the classes once (settings are ready when the URLconf imports this)."""
    from rest_framework_simplejwt.authentication import JWTAuthentication

    PeerPing.authentication_classes = [JWTAuthentication]
    if settings.HARDENING_AUTH_CLASSES:
        HardeningPing.authentication_classes = [
            import_string(c) for c in settings.HARDENING_AUTH_CLASSES
        ]
        HardeningPing.permission_classes = [
            import_string(c) for c in settings.HARDENING_PERMISSION_CLASSES
        ]


_configure()

VIEWS = {
    "bare": BarePing.as_view(),
    "peer": PeerPing.as_view(),
    "hardening": HardeningPing.as_view(),
}


def dispatch(request: HttpRequest) -> HttpResponseBase:
    """In-process mode: one URL, the view chosen by the ``bench.view`` WSGI environ key."""
    return VIEWS[request.META["bench.view"]](request)  # type: ignore[no-any-return]
