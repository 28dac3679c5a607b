"""``MFAPolicyMiddleware``: apply ``HARDENING_MFA_REQUIRED`` to session users.

Token users are covered by the DRF permission :class:`~hardening.mfa.permissions.MFAPolicy`
(authentication happens inside DRF views, after middleware).  A session user the policy
covers who has not passed MFA in this session is sent to ``/account/mfa/`` (HTML, e.g.
the admin) or gets a 403 JSON error, except on ``HARDENING_MFA_EXEMPT_PATHS``.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from hardening.conf import conf
from hardening.errors import error_response
from hardening.mfa.permissions import MFA_REQUIRED_DETAIL
from hardening.mfa.policy import is_mfa_verified, mfa_required_for
from hardening.request import HardeningMiddleware

__all__ = ["MFAPolicyMiddleware"]


def _refusal(request: HttpRequest) -> HttpResponse | None:
    if conf.HARDENING_MFA_REQUIRED == "off" or not conf.HARDENING_MFA_ENABLED:
        return None
    if any(request.path.startswith(prefix) for prefix in conf.HARDENING_MFA_EXEMPT_PATHS):
        return None
    user = getattr(request, "user", None)
    if user is None or not mfa_required_for(user) or is_mfa_verified(request):
        return None
    if "text/html" in request.headers.get("Accept", ""):
        query = urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(f"{reverse('hardening-mfa-page')}?{query}")
    return error_response(403, "mfa_required", MFA_REQUIRED_DETAIL)


class MFAPolicyMiddleware(HardeningMiddleware):
    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        refusal = _refusal(request)
        return refusal if refusal is not None else self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        refusal = await sync_to_async(_refusal)(request)
        if refusal is not None:
            return refusal
        response: Awaitable[HttpResponse] = self.get_response(request)
        return await response
