"""ASGI entry point that refuses to start when Error-level checks fail.

Use it instead of ``django.core.asgi``::

    # myproject/asgi.py
    from hardening.asgi import get_asgi_application
    application = get_asgi_application()

or point the server straight at it (``DJANGO_SETTINGS_MODULE`` must be set)::

    uvicorn hardening.asgi:application
"""

from __future__ import annotations

from typing import Any

import django
from django.core.handlers.asgi import ASGIHandler

from hardening.startup import run_startup_checks

__all__ = ["get_asgi_application"]


def get_asgi_application() -> ASGIHandler:
    """Set Django up, run the Error-level hardening checks, return the ASGI handler
    (Django's, with a pool of reused threads for thread-sensitive work:
    :class:`hardening.timeout.runner.PooledASGIHandler`)."""
    django.setup(set_prefix=False)
    run_startup_checks()
    from hardening.timeout.runner import PooledASGIHandler

    return PooledASGIHandler()


def __getattr__(name: str) -> Any:
    # ``hardening.asgi:application`` is built on first access, not on import.
    if name == "application":
        return get_asgi_application()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
