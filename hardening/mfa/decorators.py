"""View decorators for plain Django views that demand MFA or a recent (step-up) MFA.

    @mfa_required
    def settings_page(request): ...

    @recent_auth_required(300)
    def delete_account(request): ...

Refusals are JSON errors: 401 ``not_authenticated``, 403 ``mfa_required`` or
``mfa_step_up_required``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse

from hardening.errors import error_response
from hardening.mfa.permissions import MFA_REQUIRED_DETAIL, STEP_UP_DETAIL
from hardening.mfa.policy import is_mfa_verified, is_recent

__all__ = ["mfa_required", "recent_auth_required"]

V = TypeVar("V", bound=Callable[..., HttpResponse])


def _forbidden(code: str, detail: str) -> HttpResponse:
    return error_response(403, code, detail)


def mfa_required(view: V) -> V:
    """Decorator for Django views: 401 when anonymous, 403 unless MFA-verified."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return error_response(401, "not_authenticated", "Authentication required.")
        if not is_mfa_verified(request):
            return _forbidden("mfa_required", MFA_REQUIRED_DETAIL)
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def recent_auth_required(seconds: int) -> Callable[[V], V]:
    """Decorator for Django views: MFA within the last ``seconds``."""

    def decorator(view: V) -> V:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return error_response(401, "not_authenticated", "Authentication required.")
            if not is_recent(request, seconds):
                return _forbidden("mfa_step_up_required", STEP_UP_DETAIL)
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
