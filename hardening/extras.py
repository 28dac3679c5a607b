"""The optional extras (``openapi``, ``celery``, ``otel``): is one installed?  hardening
imports none of them unless it is."""

from __future__ import annotations

from importlib.util import find_spec


def installed(module: str) -> bool:
    """Can ``module`` be imported?  (A module blocked with ``sys.modules[name] = None``,
    as tests do to prove hardening works without it, counts as absent.)"""
    try:
        return find_spec(module) is not None
    except (ImportError, ValueError):
        return False
