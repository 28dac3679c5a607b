"""System checks of the health probes (``E5xx`` / ``W5xx``).  The allow-list the probes
share with ``/metrics`` (``HARDENING_OPERATOR_IPS``) is checked by
:mod:`hardening.observability.checks` (``E605``, ``W606``)."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage
from django.urls import NoReverseMatch, reverse

from hardening.access import token_checks
from hardening.checks import problem, register, warning
from hardening.health.conf import conf
from hardening.health.plan import build
from hardening.health.probes import Thresholds
from hardening.observability.conf import conf as observability


def _ready_path() -> str | None:
    try:
        return reverse("hardening:health-ready")
    except NoReverseMatch:
        return None


def _search(pattern: str, path: str) -> bool:
    try:
        return re.search(pattern, path) is not None
    except re.error:  # SecurityMiddleware itself will fail on it
        return False


@register
def check_health_urls(**kwargs: Any) -> list[CheckMessage]:
    try:
        path = _ready_path()
    except Exception:  # a broken URLconf is reported by Django's own checks
        return []
    if path is None:
        return [
            problem(
                "E501",
                "The health probes are not mounted in the URLconf.",
                'Add path("", include("hardening.urls")) to ROOT_URLCONF.',
            )
        ]
    exempt = [str(p) for p in getattr(settings, "SECURE_REDIRECT_EXEMPT", []) or []]
    if getattr(settings, "SECURE_SSL_REDIRECT", False) and not any(
        _search(pattern, path.lstrip("/")) for pattern in exempt
    ):
        return [
            warning(
                "W502",
                f"SECURE_SSL_REDIRECT answers plain-HTTP probes of {path} with 301.",
                "Kubernetes counts a 3xx as healthy: add r'^health/' to SECURE_REDIRECT_EXEMPT.",
            )
        ]
    return []


#: ``{setting: (id, hint)}`` for values that do not parse (the default applies meanwhile).
_FINDINGS = {
    "HARDENING_HEALTH_TIMEOUT": ("E505", "Use a number of seconds in (0, 60]; the default is 2."),
    "HARDENING_HEALTH_TOKEN": ("E504", "Set a string of at least 32 random characters."),
    "HARDENING_HEALTH_CHECKS": (
        "E506",
        "Use None (automatic) or a list of names ('database', 'migrations', 'cache', 'disk', "
        "'jwks') and dotted paths, each alone or as (name, kwargs).",
    ),
    "HARDENING_HEALTH_CRITICAL": ("E508", "List check names as the detailed body shows them."),
}


def _unusable_values() -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for name, why in conf.problems():
        code, hint = _FINDINGS[name]
        messages.append(problem(code, f"{name} is unusable: {why}"[:200], hint))
    return messages


def _check_entries() -> list[CheckMessage]:
    """Each entry of HARDENING_HEALTH_CHECKS builds, and names aliases that exist."""
    messages: list[CheckMessage] = []
    aliases = {
        "database": getattr(settings, "DATABASES", {}) or {},
        "migrations": getattr(settings, "DATABASES", {}) or {},
        "cache": getattr(settings, "CACHES", {}) or {},
    }
    unknown: list[str] = []
    for name, options in conf.HARDENING_HEALTH_CHECKS or []:
        try:
            build(name, options)
        except Thresholds as exc:
            messages.append(
                problem(
                    "E502",
                    "The disk thresholds of the readiness probe are invalid.",
                    f"In ('disk', {{...}}): {exc}.",
                )
            )
            continue
        except Exception as exc:
            messages.append(
                problem(
                    "E506",
                    f"HARDENING_HEALTH_CHECKS entry {name!r} is unusable.",
                    f"Name a health_check.base.HealthCheck subclass and arguments it takes "
                    f"({type(exc).__name__}).",
                )
            )
            continue
        alias = str(options.get("alias", "default"))
        if name in aliases and alias not in aliases[name]:
            unknown.append(alias)
    if unknown:
        messages.append(
            problem(
                "E507",
                f"The readiness probe names unknown aliases: {', '.join(sorted(unknown))}.",
                "The 'alias' of a database / cache entry must be a key of DATABASES / CACHES.",
            )
        )
    return messages


@register
def check_health_settings(**kwargs: Any) -> list[CheckMessage]:
    tokens = token_checks(
        "HARDENING_HEALTH_TOKEN",
        conf.HARDENING_HEALTH_TOKEN,
        "E504",
        others={"HARDENING_METRICS_TOKEN": observability.HARDENING_METRICS_TOKEN},
    )
    return _unusable_values() + tokens + _check_entries()
