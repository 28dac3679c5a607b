"""The JSON API users manage their own API keys with (DRF).

* ``GET /api/keys`` -> ``{"keys": [{"public_id", "name", "scopes", "created_at",
  "expires_at", "last_used_at", "revoked"}...]}`` (never a key, never a hash)
* ``POST /api/keys`` ``{"name"?, "scopes"?: [...], "expires_days"?: n}`` -> 201 with the
  same fields plus ``"key"``: the only time it is shown
* ``DELETE /api/keys/<public_id>`` -> 204 (revoked)
* ``POST /api/keys/<public_id>/rotate`` ``{"overlap_hours"?: n}`` -> 201, a new key; the old
  one keeps working for the overlap (default 24 h, at most 30 days)

Every call needs an MFA-verified caller (``RequireMFA``: a session verified on
``/account/mfa/`` or a token whose ``amr`` proves a second factor); an API key never is one,
so a key cannot mint keys.  Only the caller's own keys are listed or touched: another
user's public id is 404, as an unknown one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.http import HttpResponse
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hardening.apikeys import keys
from hardening.apikeys.models import APIKey
from hardening.errors import error_response
from hardening.mfa.permissions import RequireMFA
from hardening.parsers import clean_string

#: Most keys one user may hold (revoked ones do not count).
MAX_KEYS_PER_USER = 20
#: Longest expiry and rotation overlap a user may ask for.
MAX_EXPIRES_DAYS = 366
MAX_OVERLAP_HOURS = 24 * 30


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def describe(row: APIKey) -> dict[str, Any]:
    return {
        "public_id": row.public_id,
        "name": row.name,
        "scopes": list(row.scopes),
        "created_at": _when(row.created_at),
        "expires_at": _when(row.expires_at),
        "last_used_at": _when(row.last_used_at),
        "revoked": row.revoked_at is not None,
    }


def _data(request: Request) -> dict[str, Any]:
    return request.data if isinstance(request.data, dict) else {}


def _whole(value: Any, upper: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= upper:
        return None
    return value


def _bad(detail: str) -> HttpResponse:
    return error_response(400, "invalid_request", detail)


class KeysView(APIView):
    permission_classes = [IsAuthenticated, RequireMFA]

    def get(self, request: Request) -> Response:
        rows = APIKey.objects.filter(user=request.user).order_by("created_at", "pk")
        return Response({"keys": [describe(row) for row in rows]})

    def post(self, request: Request) -> Response | HttpResponse:
        data = _data(request)
        name = data.get("name", "")
        if not clean_string(name) or len(name) > 100:
            return _bad("name: a string of at most 100 characters.")
        scopes = data.get("scopes", [])
        if not isinstance(scopes, list) or len(scopes) > 50 or not all(map(clean_string, scopes)):
            return _bad("scopes: a list of at most 50 strings.")
        days = data.get("expires_days")
        if days is not None and _whole(days, MAX_EXPIRES_DAYS) is None:
            return _bad(f"expires_days: a whole number from 1 to {MAX_EXPIRES_DAYS}.")
        active = APIKey.objects.filter(user=request.user, revoked_at__isnull=True).count()
        if active >= MAX_KEYS_PER_USER:
            return error_response(409, "too_many_keys", "Revoke a key before making another.")
        try:
            row, key = keys.create_key(
                user=request.user,
                scopes=scopes,
                name=name.strip(),
                expires_in=timedelta(days=days) if days else None,
                request=request._request,
                by="api",
            )
        except ValueError as exc:
            return _bad(str(exc))
        return Response({**describe(row), "key": key}, status=201)


def _own(request: Request, public_id: str) -> APIKey | None:
    row: APIKey | None = APIKey.objects.filter(user=request.user, public_id=public_id).first()
    return row


class KeyView(APIView):
    permission_classes = [IsAuthenticated, RequireMFA]

    def delete(self, request: Request, public_id: str) -> HttpResponse:
        row = _own(request, public_id)
        if row is None:
            return error_response(404, "not_found", "No such API key.")
        keys.revoke(row, request=request._request, by="api")
        return HttpResponse(status=204)


class RotateView(APIView):
    permission_classes = [IsAuthenticated, RequireMFA]

    def post(self, request: Request, public_id: str) -> Response | HttpResponse:
        row = _own(request, public_id)
        if row is None or row.revoked_at is not None:
            return error_response(404, "not_found", "No such API key.")
        hours = _data(request).get("overlap_hours", 24)
        if _whole(hours, MAX_OVERLAP_HOURS) is None and hours != 0:
            return _bad(f"overlap_hours: a whole number from 0 to {MAX_OVERLAP_HOURS}.")
        new, key = keys.rotate(
            row, overlap=timedelta(hours=hours), request=request._request, by="api"
        )
        return Response({**describe(new), "key": key, "replaces": row.public_id}, status=201)
