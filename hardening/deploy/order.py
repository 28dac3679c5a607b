"""The canonical order of ``MIDDLEWARE`` (``hardening.E033``), checked in one place.

A request flows one way: request ID and client address, then the security headers (so every
answer gets them, the early ones included), the deadline, Django's session, CSRF and
authentication, the credentials hardening verifies (bearer tokens; the per-account lock),
the rate limit (which needs to know the user), the MFA gate, and last the middleware that
only decorate the response.  Middleware not listed here may sit anywhere.
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage

from hardening.checks import problem, register
from hardening.conf.core import middleware as installed_middleware

PROMETHEUS_BEFORE = "django_prometheus.middleware.PrometheusBeforeMiddleware"
PROMETHEUS_AFTER = "django_prometheus.middleware.PrometheusAfterMiddleware"
REQUEST = "hardening.middleware.RequestMiddleware"

#: Top to bottom; hardening's classes under their public names (however a project spells
#: them: :func:`hardening.conf.core.middleware`).
CANONICAL: tuple[str, ...] = (
    PROMETHEUS_BEFORE,
    REQUEST,
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "hardening.middleware.SecurityHeadersMiddleware",
    "hardening.middleware.TimeoutMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "hardening.middleware.LockoutMiddleware",
    "hardening.middleware.CredentialMiddleware",
    "hardening.middleware.RateLimitMiddleware",
    "hardening.middleware.MFAMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    PROMETHEUS_AFTER,
)
_RANK = {path: rank for rank, path in enumerate(CANONICAL)}


def _short(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def misplaced(middleware: list[str]) -> str | None:
    """What is out of order in ``middleware``, or None."""
    if PROMETHEUS_BEFORE in middleware and middleware[0] != PROMETHEUS_BEFORE:
        return f"{_short(PROMETHEUS_BEFORE)} is not first"
    if PROMETHEUS_AFTER in middleware and middleware[-1] != PROMETHEUS_AFTER:
        return f"{_short(PROMETHEUS_AFTER)} is not last"
    if REQUEST in middleware:
        first = 1 if middleware[0] == PROMETHEUS_BEFORE else 0
        if middleware.index(REQUEST) != first:
            return f"{_short(REQUEST)} is not first (only {_short(PROMETHEUS_BEFORE)} precedes it)"
    known = [path for path in middleware if path in _RANK]
    for earlier, later in zip(known, known[1:], strict=False):
        if _RANK[earlier] > _RANK[later]:
            return f"{_short(earlier)} runs before {_short(later)}"
    return None


def canonical_order() -> str:
    return " -> ".join(_short(path) for path in CANONICAL)


@register
def check_middleware_order(**kwargs: Any) -> list[CheckMessage]:
    found = misplaced(list(installed_middleware()))
    if found is None:
        return []
    return [
        problem(
            "E033",
            f"MIDDLEWARE is out of order: {found}.",
            f"Order them as in docs/quickstart.md: {canonical_order()}.",
        )
    ]
