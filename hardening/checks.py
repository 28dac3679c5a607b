"""System checks: how a room reports a problem and registers its checks.

Ids are stable and append-only, numbered in blocks per room (see ``docs/checks.md``):

* ``E001``–``E039`` deployment settings, ``E040``–``E059`` secrets, ``E060``–``E079`` services
  (the ``deploy`` room: Django's own settings and the wiring a project copies)
* ``E1xx`` JWT, ``E2xx`` MFA, ``E3xx`` rate limits, ``E4xx`` timeouts, ``E5xx`` health,
  ``E6xx`` observability and headers (``E620``–``E629`` the interplay with other packages'
  middleware), ``E7xx`` WebSockets, ``E8xx`` API keys, ``E090``–``E099`` other packages;
  ``W###`` are warnings in the same blocks.

In production a problem is an ``Error`` (``manage.py check`` exits non-zero, and the
``hardening.wsgi`` / ``hardening.asgi`` entry points refuse to start).  In development and
test the same problem, with the same id, is reported as a ``Warning`` so one
``SILENCED_SYSTEM_CHECKS`` entry works everywhere.

Each room registers its own checks with :func:`register` in its ``checks`` module, which
:meth:`hardening.apps.HardeningConfig.ready` imports; nothing lists them centrally.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

from django.core.checks import ERROR, CheckMessage, Error, Info, Tags, Warning
from django.core.checks import register as django_register

from hardening.conf import conf

Check = Callable[..., list[CheckMessage]]

#: Every check registered through :func:`register`, for the development summary.
REGISTERED: list[Check] = []


def problem(code: str, msg: str, hint: str) -> CheckMessage:
    """A misconfiguration: an Error in production, a Warning elsewhere.

    ``code`` is the bare id (``"E001"``); it becomes ``hardening.E001``.
    """
    assert code.startswith("E"), code
    cls = Error if conf.is_production else Warning
    return cls(msg, hint=hint, id=f"hardening.{code}")


def warning(code: str, msg: str, hint: str) -> CheckMessage:
    """A setup that works but is risky: a Warning in every environment."""
    assert code.startswith("W"), code
    return Warning(msg, hint=hint, id=f"hardening.{code}")


def register(check: Check) -> Check:
    """Register ``check`` with Django (``Tags.security``), quiet during a development
    runserver (:func:`summary` reports for it there).  Returns ``check`` unchanged, so a
    test can call it directly."""
    REGISTERED.append(check)
    django_register(Tags.security)(quiet(check))
    return check


def quiet(check: Check) -> Check:
    """``check`` as registered: during a development runserver it leaves the work to
    :func:`summary` (which runs it once, keeping its Errors)."""

    @functools.wraps(check)
    def wrapper(**kwargs: Any) -> list[CheckMessage]:
        if quiet_in_development_runserver():
            return []
        return check(**kwargs)

    return wrapper


def quiet_in_development_runserver() -> bool:
    """``manage.py runserver`` in development (``HARDENING_CHECKS_VERBOSE=1`` shows all)."""
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    return (
        command == "runserver"
        and conf.HARDENING_ENVIRONMENT == "development"
        and not os.environ.get("HARDENING_CHECKS_VERBOSE")
    )


def summary(**kwargs: Any) -> list[CheckMessage]:
    """During a development runserver: every check once, its Errors, and one Info line
    naming how many other findings were not printed.  Elsewhere nothing (the registered
    wrappers report everything)."""
    if not quiet_in_development_runserver():
        return []
    messages = [m for check in REGISTERED for m in check(**kwargs)]
    errors = [m for m in messages if m.level >= ERROR]
    hidden = len(messages) - len(errors)
    if not hidden:
        return errors
    return [
        *errors,
        Info(
            f"{hidden} production findings not shown during a development runserver.",
            hint="List them: DJANGO_ENV=production python manage.py check "
            "(or HARDENING_CHECKS_VERBOSE=1).",
            id="hardening.I030",
        ),
    ]
