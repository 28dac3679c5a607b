"""Content-Security-Policy values, in the format of Django 6's ``SECURE_CSP``.

A policy is a dict ``{directive: sources}``; ``sources`` is a list, a string, ``True``
(directive without value, e.g. ``upgrade-insecure-requests``) or ``None``/``False``
(left out).  :data:`NONCE` in a source list becomes ``'nonce-<random>'`` when the
response used the request's nonce (``request.hardening.csp_nonce``, ``{{ csp_nonce }}`` in
templates), as Django 6's ``CSP.NONCE`` does.

>>> build_policy({"default-src": [SELF], "object-src": [NONE], "upgrade-insecure-requests": True})
"default-src 'self'; object-src 'none'; upgrade-insecure-requests"
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any, Final

NONE: Final = "'none'"
SELF: Final = "'self'"
#: Placeholder for the per-request nonce (the same sentinel string as Django 6).
NONCE: Final = "<CSP_NONCE_SENTINEL>"
HEADER: Final = "Content-Security-Policy"
DJANGO_CSP_MIDDLEWARE: Final = "django.middleware.csp.ContentSecurityPolicyMiddleware"

#: HTML pages: only this origin, never framed, no plugins, forms post here only.
DEFAULT_CSP: Final[Mapping[str, Any]] = {
    "default-src": [SELF],
    "frame-ancestors": [NONE],
    "base-uri": [NONE],
    "form-action": [SELF],
    "object-src": [NONE],
}

#: JSON responses (API paths and JSON bodies): a browser that renders one must load nothing.
API_CSP: Final[Mapping[str, Any]] = {
    "default-src": [NONE],
    "frame-ancestors": [NONE],
    "base-uri": [NONE],
    "form-action": [NONE],
}


class LazyNonce:
    """The request's CSP nonce (``request.hardening.csp_nonce``): a random value made on
    first use; ``str()`` gives it.  With Django 6's CSP middleware it wraps Django's own
    nonce (``source``), so templates and Django's header use the same value."""

    def __init__(self, source: object | None = None) -> None:
        self._source = source
        self._value: str | None = None

    @property
    def used(self) -> bool:
        return self._value is not None

    def __str__(self) -> str:
        if self._value is None:
            source = self._source
            self._value = str(source) if source is not None else secrets.token_urlsafe(16)
        return self._value

    def __bool__(self) -> bool:
        return True


def build_policy(config: Mapping[str, Any], nonce: str | None = None) -> str:
    """Render ``config`` as a header value (what Django 6's ``build_policy`` does)."""
    parts: list[str] = []
    for directive, values in config.items():
        if values is None or values is False:
            continue
        if values is True:
            parts.append(directive)
            continue
        if isinstance(values, str):
            values = [values]
        elif isinstance(values, (set, frozenset)):
            values = sorted(values)
        rendered = [
            f"'nonce-{nonce}'" if value == NONCE else str(value)
            for value in values
            if value != NONCE or nonce is not None
        ]
        parts.append(f"{directive} {' '.join(rendered)}".rstrip())
    return "; ".join(parts)


def django_csp_middleware_active(middleware: list[str]) -> bool:
    """True on Django >= 6.0 when its own CSP middleware is installed."""
    if DJANGO_CSP_MIDDLEWARE not in middleware:
        return False
    try:
        import django.middleware.csp  # noqa: F401
    except ImportError:
        return False
    return True
