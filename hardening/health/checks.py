"""System checks for the health probes (``E5xx`` / ``W5xx``)."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage
from django.urls import NoReverseMatch, reverse

from hardening.access import gate_checks
from hardening.checks import problem, register, warning
from hardening.conf import conf

__all__ = ["check_health_settings", "check_health_urls"]


def _ready_path() -> str | None:
    try:
        return reverse("hardening_health:ready")
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
                'Add path("health/", include("hardening.health.urls")) to ROOT_URLCONF.',
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


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _check_numbers() -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    maximum = _number(conf.HARDENING_HEALTH_DISK_MAX_PERCENT)
    raw_warn = conf.HARDENING_HEALTH_DISK_WARN_PERCENT
    warn = None if raw_warn is None else _number(raw_warn)
    if (
        maximum is None
        or not 0 < maximum <= 100
        or (raw_warn is not None and (warn is None or not 0 < warn < maximum))
    ):
        messages.append(
            problem(
                "E502",
                "The disk thresholds of the readiness probe are invalid.",
                "HARDENING_HEALTH_DISK_MAX_PERCENT must be in (0, 100] and "
                "HARDENING_HEALTH_DISK_WARN_PERCENT None or below it.",
            )
        )
    timeout = _number(conf.HARDENING_HEALTH_TIMEOUT)
    ttl = _number(conf.HARDENING_HEALTH_CACHE_SECONDS)
    if timeout is None or not 0 < timeout <= 60 or ttl is None or ttl < 0:
        messages.append(
            problem(
                "E505",
                "HARDENING_HEALTH_TIMEOUT or HARDENING_HEALTH_CACHE_SECONDS is invalid.",
                "Use a timeout in (0, 60] seconds (default 2) and a cache time >= 0.",
            )
        )
    elif ttl == 0 and conf.is_production:
        messages.append(
            warning(
                "W503",
                "Readiness results are not cached (HARDENING_HEALTH_CACHE_SECONDS = 0).",
                "Every probe then queries the database; keep a short cache such as 1 s.",
            )
        )
    return messages


def _check_access() -> list[CheckMessage]:
    everyone = (
        "HARDENING_HEALTH_ALLOWED_IPS shows check details to everyone ({entry}).",
        "List your monitoring addresses, or use HARDENING_HEALTH_TOKEN.",
    )
    return gate_checks(
        "HEALTH",
        conf.HARDENING_HEALTH_ALLOWED_IPS,
        conf.HARDENING_HEALTH_TOKEN,
        ids=("E503", "W501", "E504"),
        everyone=everyone if conf.is_production else None,
    )


def _check_references() -> list[CheckMessage]:
    from hardening.health.probes import _extra_check

    messages: list[CheckMessage] = []
    for entry in conf.HARDENING_HEALTH_EXTRA_CHECKS:
        try:
            _extra_check(entry)
        except Exception as exc:
            messages.append(
                problem(
                    "E506",
                    f"HARDENING_HEALTH_EXTRA_CHECKS entry {entry!r} is unusable.",
                    f"Name a health_check.base.HealthCheck subclass ({type(exc).__name__}).",
                )
            )
    databases = getattr(settings, "DATABASES", {}) or {}
    caches = getattr(settings, "CACHES", {}) or {}
    unknown = [a for a in conf.HARDENING_HEALTH_DATABASES if a not in databases]
    unknown += [a for a in conf.HARDENING_HEALTH_CACHES if a not in caches]
    if unknown:
        messages.append(
            problem(
                "E507",
                f"The readiness probe names unknown aliases: {', '.join(sorted(unknown))}.",
                "HARDENING_HEALTH_DATABASES / _CACHES must be keys of DATABASES / CACHES.",
            )
        )
    return messages


@register
def check_health_settings(**kwargs: Any) -> list[CheckMessage]:
    return _check_numbers() + _check_access() + _check_references()
