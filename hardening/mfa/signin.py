"""``/account/login/`` and ``/account/logout/``: a session login with the MFA step.

Django ships no login page at ``LOGIN_URL``; without one, ``/account/mfa/`` and every
``login_required`` view redirect anonymous users to a 404.  This view checks the username
and password with ``authenticate()`` (so ``user_login_failed`` and the rate limits apply)
and, when the user has a confirmed authenticator, keeps the login *pending* in the session
until a TOTP or recovery code is accepted: the session is logged in only then, already
MFA-verified.  Set ``LOGIN_URL = "hardening:login"`` (``hardening.E220`` otherwise).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import authenticate, get_user_model, login, logout
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from hardening import clock, formfields
from hardening.mfa import messages, passkeys, trusted
from hardening.mfa.attempts import verify_code
from hardening.mfa.devices import has_mfa
from hardening.mfa.models import WebAuthnCredential
from hardening.mfa.policy import mark_session_verified

PENDING = "_hardening_login_pending"
PENDING_SECONDS = 300
PENDING_ATTEMPTS = 5


def _limits() -> dict[str, int]:
    """The fields this page reads and their maximum lengths (a longer value is a 400)."""
    model = get_user_model()
    field = model._meta.get_field(model.USERNAME_FIELD)
    return {
        "username": int(getattr(field, "max_length", None) or 254),
        "password": 4096,
        "code": 64,
        "next": 2048,
        "step": 16,
        "trust": 8,
    }


def safe_next(request: HttpRequest, value: str) -> str:
    """``value`` when it is a URL of this site (``next``), else ``""``."""
    allowed = url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return value if value and allowed else ""


def _next(request: HttpRequest) -> str:
    return safe_next(request, request.POST.get("next") or request.GET.get("next", ""))


def _page(request: HttpRequest, status: int = 200, **extra: Any) -> HttpResponse:
    context = {"next": _next(request), "passkeys": passkeys.enabled(request), **extra}
    user = pending_user(request) if extra.get("step") == "code" else None
    if user is not None:
        context["trust_days"] = trusted.days_for(user)
        context["has_passkey"] = WebAuthnCredential.objects.filter(user=user).exists()
    response = render(request, "hardening/login.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _done(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(_next(request) or reverse("hardening:mfa-page"))


def pending_user(request: HttpRequest) -> Any | None:
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or clock.now() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None
    return get_user_model().objects.filter(pk=pending.get("user")).first()


def _password_step(request: HttpRequest) -> HttpResponse:
    username = request.POST.get("username", "")
    password = request.POST.get("password", "")
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        return _page(request, 401, error="Wrong username or password. Check both and try again.")
    if not has_mfa(user):
        login(request, user)
        return _done(request)
    device = trusted.recognised(request, user)
    if device is not None:  # a browser the user trusted after an MFA step (opt-in)
        login(request, user)
        mark_session_verified(request, "trusted", at=device.verified_at)
        return _done(request)
    request.session.cycle_key()
    request.session[PENDING] = {
        "user": str(user.pk),
        "backend": getattr(user, "backend", ""),
        "at": int(clock.now()),
        "tries": 0,
    }
    return _page(request, step="code")


def _code_step(request: HttpRequest) -> HttpResponse:
    user = pending_user(request)
    if user is None:
        return _page(request, 400, error="Your sign-in expired. Enter your password again.")
    pending = request.session[PENDING]
    code = request.POST.get("code", "").strip()
    if not code:
        return _page(request, 400, step="code", error="Enter the code from your app.")
    reason, method, retry = verify_code(request, user, code)
    if reason != "ok":
        pending["tries"] = int(pending.get("tries", 0)) + 1
        if pending["tries"] >= PENDING_ATTEMPTS:
            request.session.pop(PENDING, None)
            return _page(request, 401, error="Too many wrong codes. Enter your password again.")
        request.session.modified = True
        status = 429 if reason == "throttled" else 401
        error = messages.refusal(request, user.pk, reason, retry)
        response = _page(request, status, step="code", error=error)
        if status == 429:
            response["Retry-After"] = str(max(1, retry))
        return response
    request.session.pop(PENDING, None)
    login(request, user, backend=pending.get("backend") or None)
    mark_session_verified(request, method)
    response = _done(request)
    if request.POST.get("trust") == "on":
        trusted.remember(request, response, user, clock.now())
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    refused = formfields.refusal(request, _limits())
    if refused is not None:  # NUL, a lone surrogate or too long: before any lookup
        step = "code" if pending_user(request) else "password"
        return _page(request, 400, step=step, error=refused.message, next="")
    if request.method == "GET":
        if request.user.is_authenticated:
            return _done(request)
        return _page(request, step="code" if pending_user(request) else "password")
    if request.POST.get("step") == "code":
        return _code_step(request)
    return _password_step(request)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return HttpResponseRedirect(reverse("hardening:login"))


def _static_file(name: str, content_type: str) -> FileResponse:
    """``static/hardening/<name>``, cacheable for an hour."""
    path = Path(__file__).resolve().parent.parent / "static" / "hardening" / name
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_GET
def stylesheet(request: HttpRequest) -> FileResponse:
    """The pages' stylesheet, served by the app itself so it works without collectstatic."""
    return _static_file("hardening.css", "text/css")


@require_GET
def script(request: HttpRequest) -> FileResponse:
    """The passkey script of the pages (a static file: the pages allow no inline script)."""
    return _static_file("passkeys.js", "text/javascript")
