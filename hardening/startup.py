"""Fail fast: run the Error-level system checks before a server process serves.

Django runs system checks for management commands only; gunicorn and uvicorn import the
WSGI/ASGI application and serve whatever settings they find.
"""

from __future__ import annotations

import sys
from contextvars import ContextVar

from django.core import checks

from hardening.conf import conf
from hardening.exceptions import StartupCheckFailed

#: True while a system check imports the project's ASGI application to inspect it
#: (``hardening.W702``): the entry point it calls is not starting a server.
inspecting: ContextVar[bool] = ContextVar("hardening_inspecting_application", default=False)


def _format(message: checks.CheckMessage) -> str:
    line = f"  {message.id}: {message.msg}"
    if message.hint:
        line += f"\n      HINT: {message.hint}"
    return line


def run_startup_checks() -> None:
    """Raise :class:`StartupCheckFailed` when any unsilenced security check is an Error.

    Runs the checks tagged ``security`` (every hardening check and Django's non-deploy
    security checks).  Disable with ``HARDENING_FAIL_FAST = False``.
    """
    if not conf.HARDENING_FAIL_FAST or inspecting.get():
        return
    messages = checks.run_checks(tags=[checks.Tags.security])
    serious = [m for m in messages if m.is_serious() and not m.is_silenced()]
    if serious:
        lines = [_format(m) for m in serious]
        # gunicorn prints the exception with a traceback; say it plainly first.
        print("django-hardening refused to start:\n" + "\n".join(lines), file=sys.stderr)
        raise StartupCheckFailed(lines)
