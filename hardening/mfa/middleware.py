"""``MFAMiddleware``: apply ``HARDENING_MFA_REQUIRED`` to session users.

Token users are covered by the DRF permission :class:`~hardening.permissions.MFAPolicy`
(authentication happens inside DRF views, after middleware); both ask
:func:`hardening.mfa.policy.refusal`.  A session user the policy covers who has not passed
MFA in this session is sent to ``/account/mfa/`` (HTML, e.g. the admin) or gets a 403 JSON
error, except on ``HARDENING_MFA_EXEMPT_PATHS``.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from hardening.errors import error_response
from hardening.mfa.policy import is_exempt_path, refusal
from hardening.request import HardeningMiddleware


def _refusal(request: HttpRequest) -> HttpResponse | None:
    refused = refusal(request, exempt=is_exempt_path(request.path))
    if refused is None:
        return None
    if "text/html" in request.headers.get("Accept", ""):
        query = urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(f"{reverse('hardening:mfa-page')}?{query}")
    return error_response(refused.status, refused.code, refused.detail)


class MFAMiddleware(HardeningMiddleware):
    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        refused = _refusal(request)
        return refused if refused is not None else self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        refused = await sync_to_async(_refusal)(request)
        if refused is not None:
            return refused
        response: Awaitable[HttpResponse] = self.get_response(request)
        return await response
