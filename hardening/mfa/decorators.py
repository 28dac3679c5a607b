"""View decorators for plain Django views that demand MFA or a recent (step-up) MFA.

    @mfa_required
    def settings_page(request): ...

    @recent_auth_required(300)
    def delete_account(request): ...

Refusals are JSON errors: 401 ``not_authenticated``, 403 ``mfa_required`` or
``mfa_step_up_required``, as :func:`hardening.mfa.policy.refusal` decides.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse

from hardening.errors import error_response
from hardening.mfa.policy import refusal

V = TypeVar("V", bound=Callable[..., HttpResponse])


def _demanding(view: V, **demand: Any) -> V:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refused = refusal(request, **demand)
        if refused is not None:
            return error_response(refused.status, refused.code, refused.detail)
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def mfa_required(view: V) -> V:
    """Decorator for Django views: 401 when anonymous, 403 unless MFA-verified."""
    return _demanding(view, demand=True)


def recent_auth_required(seconds: int) -> Callable[[V], V]:
    """Decorator for Django views: MFA within the last ``seconds``."""

    def decorator(view: V) -> V:
        return _demanding(view, within=seconds)

    return decorator
