"""WSGI entry point that refuses to start when Error-level checks fail.

Use it instead of ``django.core.wsgi``::

    # myproject/wsgi.py
    from hardening.wsgi import get_wsgi_application
    application = get_wsgi_application()

or point the server straight at it (``DJANGO_SETTINGS_MODULE`` must be set)::

    gunicorn hardening.wsgi:application
"""

from __future__ import annotations

from typing import Any

import django
from django.core.handlers.wsgi import WSGIHandler

from hardening.startup import run_startup_checks

__all__ = ["get_wsgi_application"]


def get_wsgi_application() -> WSGIHandler:
    """Set Django up, run the Error-level hardening checks, return the WSGI handler."""
    django.setup(set_prefix=False)
    run_startup_checks()
    return WSGIHandler()


def __getattr__(name: str) -> Any:
    # ``hardening.wsgi:application`` is built on first access, not on import.
    if name == "application":
        return get_wsgi_application()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
