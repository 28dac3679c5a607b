"""System checks.

Ids are stable and append-only, numbered in blocks per capability (see ``docs/checks.md``):

* ``E001``–``E039`` deployment settings, ``E040``–``E059`` secrets, ``E060``–``E079`` services
* ``E1xx`` JWT, ``E2xx`` MFA, ``E3xx`` rate limits, ``E4xx`` timeouts, ``E5xx`` health,
  ``E6xx`` observability and headers; ``W###`` are warnings in the same blocks.

In production a problem is an ``Error`` (``manage.py check`` exits non-zero, and the
``hardening.wsgi`` / ``hardening.asgi`` entry points refuse to start).  In development and
test the same problem, with the same id, is reported as a ``Warning`` so one
``SILENCED_SYSTEM_CHECKS`` entry works everywhere.
"""

from __future__ import annotations

from django.core.checks import CheckMessage, Error, Warning

from hardening.conf import conf

__all__ = ["problem", "warning"]


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
