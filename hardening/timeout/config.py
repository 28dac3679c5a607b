"""Parsing of the timeout settings (shared by the middleware and the checks)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from hardening.conf import conf
from hardening.timeout.db import DB_MODES
from hardening.timeout.deadline import is_unset, view_budget

__all__ = ["budget_for_path", "budget_for_view", "parse_seconds", "request_timeout", "routes"]


def parse_seconds(value: Any, name: str) -> float | None:
    """A positive finite number of seconds, or None for ``None``/``0`` (disabled)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ImproperlyConfigured(f"{name} must be a number of seconds, got {value!r}.")
    try:
        seconds = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number of seconds, got {value!r}.") from None
    if seconds == 0:
        return None
    if not math.isfinite(seconds) or seconds < 0:
        raise ImproperlyConfigured(f"{name} must be a positive number, got {value!r}.")
    return seconds


def request_timeout() -> float | None:
    return parse_seconds(conf.HARDENING_REQUEST_TIMEOUT, "HARDENING_REQUEST_TIMEOUT")


def exempt_prefixes() -> list[str]:
    value = conf.HARDENING_REQUEST_TIMEOUT_EXEMPT
    if isinstance(value, str) or not all(isinstance(p, str) for p in value):
        raise ImproperlyConfigured("HARDENING_REQUEST_TIMEOUT_EXEMPT must be a list of paths.")
    return list(value)


def routes() -> list[tuple[str, float | None]]:
    """Per-route budgets, longest prefix first."""
    value = conf.HARDENING_REQUEST_TIMEOUT_ROUTES
    if not isinstance(value, dict):
        raise ImproperlyConfigured("HARDENING_REQUEST_TIMEOUT_ROUTES must be a dict.")
    parsed = [
        (str(prefix), parse_seconds(seconds, f"HARDENING_REQUEST_TIMEOUT_ROUTES[{prefix!r}]"))
        for prefix, seconds in value.items()
    ]
    return sorted(parsed, key=lambda item: len(item[0]), reverse=True)


def db_mode() -> str:
    mode = conf.HARDENING_REQUEST_TIMEOUT_DB
    if mode not in DB_MODES:
        raise ImproperlyConfigured(
            f"HARDENING_REQUEST_TIMEOUT_DB must be one of {', '.join(DB_MODES)}, got {mode!r}."
        )
    return mode


def budget_for_path(path: str) -> float | None:
    """The budget for a request path (None: no deadline)."""
    if any(path.startswith(prefix) for prefix in exempt_prefixes()):
        return None
    for prefix, seconds in routes():
        if path.startswith(prefix):
            return seconds
    return request_timeout()


def budget_for_view(view: Callable[..., Any]) -> tuple[bool, float | None]:
    """``(True, seconds)`` when the view carries ``@request_timeout(...)``."""
    value = view_budget(view)
    if is_unset(value):
        return False, None
    return True, parse_seconds(value, "@request_timeout")
