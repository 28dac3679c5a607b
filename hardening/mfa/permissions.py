"""DRF permissions and view decorators that demand MFA or a recent (step-up) MFA.

    class TransferView(APIView):
        permission_classes = [IsAuthenticated, RequireMFA, RequireRecentAuth(300)]

The same for plain Django views is in :mod:`hardening.mfa.decorators`.

Refusals are 403 JSON errors with the code ``mfa_required`` or
``mfa_step_up_required`` (a client reacts to the latter by running
``POST /api/auth/mfa`` again, or the session page).  :class:`MFAPolicy` applies
``HARDENING_MFA_REQUIRED`` to every DRF view that does not set ``mfa_exempt = True``.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from hardening.mfa.policy import is_mfa_verified, is_recent, mfa_required_for

__all__ = ["MFA_REQUIRED_DETAIL", "STEP_UP_DETAIL", "MFAPolicy", "RequireMFA", "RequireRecentAuth"]

MFA_REQUIRED_DETAIL = "This action needs multi-factor authentication."
STEP_UP_DETAIL = "This action needs a recent multi-factor authentication."


class RequireMFA(BasePermission):
    """The request's token ``amr`` holds an OTP method, or its session passed MFA."""

    message = MFA_REQUIRED_DETAIL
    code = "mfa_required"

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user.is_authenticated and is_mfa_verified(request))


def RequireRecentAuth(seconds: int) -> type[BasePermission]:  # noqa: N802 (reads as a class)
    """A permission class: MFA happened within the last ``seconds`` (``auth_time``)."""

    class _RequireRecentAuth(BasePermission):
        message = STEP_UP_DETAIL
        code = "mfa_step_up_required"
        max_age = seconds

        def has_permission(self, request: Request, view: Any) -> bool:
            return bool(request.user.is_authenticated) and is_recent(request, self.max_age)

    _RequireRecentAuth.__name__ = f"RequireRecentAuth{seconds}"
    return _RequireRecentAuth


class MFAPolicy(BasePermission):
    """Enforce ``HARDENING_MFA_REQUIRED`` (``staff`` / ``all``) on DRF views.

    Views that must stay reachable before enrollment set ``mfa_exempt = True`` (the MFA
    enrollment API does).  Users the policy does not cover pass.
    """

    message = MFA_REQUIRED_DETAIL
    code = "mfa_required"

    def has_permission(self, request: Request, view: Any) -> bool:
        if getattr(view, "mfa_exempt", False) or not mfa_required_for(request.user):
            return True
        return is_mfa_verified(request)
