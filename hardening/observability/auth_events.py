"""Login outcomes as audit events, for every way a user authenticates.

* ``auth.succeeded``: a session login (Django's ``user_logged_in``: the admin, allauth, your
  own login view) or a completed API login (``POST /api/auth/token`` without an MFA step, or
  ``POST /api/auth/mfa``), with the methods used (``amr``).
* ``auth.failed``: Django's ``user_login_failed``, sent by ``authenticate()`` when no
  backend accepts the credentials (the admin login, ``POST /api/auth/token``, any
  ``authenticate()`` call), counted in ``hardening_auth_failures_total{reason="credentials"}``.

Neither event carries the credentials: not the password, not even the username (which is
often an e-mail address); the client IP and request ID say where the attempt came from.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.http import HttpRequest

from hardening.observability.audit import audit
from hardening.observability.metrics import AUTH_FAILURES


def login_succeeded(request: HttpRequest | None, user: Any, *, amr: list[str]) -> None:
    """Record a completed login of ``user`` with the methods ``amr``."""
    audit("auth.succeeded", request=request, user_id=str(user.pk), amr=",".join(amr))


def _logged_in(sender: Any, request: Any = None, user: Any = None, **kw: Any) -> None:
    if user is not None:
        login_succeeded(
            request if isinstance(request, HttpRequest) else None, user, amr=["session"]
        )


def login_failed(request: HttpRequest | None) -> None:
    """Record and count refused credentials (never the credentials themselves)."""
    AUTH_FAILURES.labels(reason="credentials").inc()
    audit("auth.failed", request=request, reason="credentials")


def _login_failed(sender: Any, credentials: Any = None, request: Any = None, **kw: Any) -> None:
    login_failed(request if isinstance(request, HttpRequest) else None)


def connect() -> None:
    """Called by ``HardeningConfig.ready()``; idempotent (``dispatch_uid``)."""
    user_logged_in.connect(_logged_in, dispatch_uid="hardening.auth_events.logged_in")
    user_login_failed.connect(_login_failed, dispatch_uid="hardening.auth_events.login_failed")
