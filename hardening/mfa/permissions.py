"""DRF permissions that demand MFA or a recent (step-up) MFA.

    class TransferView(APIView):
        permission_classes = [IsAuthenticated, RequireMFA, RequireRecentAuth(300)]

The same for plain Django views is in :mod:`hardening.mfa.decorators`; both ask
:func:`hardening.mfa.policy.refusal`.

Refusals are 403 JSON errors with the code ``mfa_required`` or
``mfa_step_up_required`` (a client reacts to the latter by running
``POST /api/auth/mfa`` again, or the session page).  :class:`MFAPolicy` applies
``HARDENING_MFA_REQUIRED`` to every DRF view that does not set ``mfa_exempt = True``.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from hardening.mfa.policy import MFA_REQUIRED, STEP_UP_REQUIRED, refusal


class RequireMFA(BasePermission):
    """The request's token ``amr`` holds an OTP method, or its session passed MFA."""

    message = MFA_REQUIRED.detail
    code = MFA_REQUIRED.code

    def has_permission(self, request: Request, view: Any) -> bool:
        return refusal(request, demand=True) is None


def RequireRecentAuth(seconds: int) -> type[BasePermission]:  # noqa: N802 (reads as a class)
    """A permission class: MFA happened within the last ``seconds`` (``auth_time``)."""

    class _RequireRecentAuth(BasePermission):
        message = STEP_UP_REQUIRED.detail
        code = STEP_UP_REQUIRED.code
        max_age = seconds

        def has_permission(self, request: Request, view: Any) -> bool:
            return refusal(request, within=self.max_age) is None

    _RequireRecentAuth.__name__ = f"RequireRecentAuth{seconds}"
    return _RequireRecentAuth


class MFAPolicy(BasePermission):
    """Enforce ``HARDENING_MFA_REQUIRED`` (``staff`` / ``all``) on DRF views.

    Views that must stay reachable before enrollment set ``mfa_exempt = True`` (the MFA
    enrollment API does).  Users the policy does not cover pass.
    """

    message = MFA_REQUIRED.detail
    code = MFA_REQUIRED.code

    def has_permission(self, request: Request, view: Any) -> bool:
        return refusal(request, exempt=getattr(view, "mfa_exempt", False)) is None
