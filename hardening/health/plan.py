"""Which checks ``/health/ready`` runs: ``HARDENING_HEALTH_CHECKS`` built into check
objects, or the automatic set when it is None."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.utils.module_loading import import_string
from health_check.base import HealthCheck

from hardening.conf import conf as core
from hardening.health.conf import conf
from hardening.health.probes import Cache, Database, Disk, Jwks, Migrations
from hardening.ratelimit.conf import conf as ratelimit

BUILT_IN: dict[str, type[HealthCheck]] = {
    "database": Database,
    "migrations": Migrations,
    "cache": Cache,
    "disk": Disk,
    "jwks": Jwks,
}


def build(name: str, options: Mapping[str, Any]) -> HealthCheck:
    """One entry of ``HARDENING_HEALTH_CHECKS`` as a check.  ``critical`` (any entry) says
    whether a failure is ``error`` (True) or ``degraded`` (False); ``disk`` takes ``path``
    for ``paths``.  Raises when the entry cannot be built (``hardening.E502`` / ``E506``)."""
    kwargs = dict(options)
    critical = kwargs.pop("critical", None)
    if name == "disk":
        if "path" in kwargs:
            kwargs["paths"] = [str(kwargs.pop("path"))]
        kwargs.setdefault("paths", [tempfile.gettempdir()])
    if name == "cache" and critical is None:
        critical = _session_cache(str(kwargs.get("alias", "default")))
    cls = BUILT_IN.get(name) or import_string(name)
    check = cls(**kwargs)
    if not isinstance(check, HealthCheck):
        raise TypeError(f"{name!r} is not a health_check.base.HealthCheck")
    if critical is not None:
        check.critical = bool(critical)
    return check


def _session_cache(alias: str) -> bool:
    """Sessions live only in this cache: without it no logged-in user is served."""
    engine = getattr(settings, "SESSION_ENGINE", "")
    return engine == "django.contrib.sessions.backends.cache" and alias == getattr(
        settings, "SESSION_CACHE_ALIAS", "default"
    )


def automatic() -> list[HealthCheck]:
    """The checks of ``HARDENING_HEALTH_CHECKS = None``: every database (and the migrations
    of ``default``), the ``default`` cache and the shared cache when rate limits use another
    alias (``ratelimit_cache``), the temp directory's disk, and the JWKS of the configured
    issuers (left out of the report when there are none)."""
    databases = [str(alias) for alias in getattr(settings, "DATABASES", {}) or {}]
    checks: list[HealthCheck] = [Database(alias=alias) for alias in databases]
    if DEFAULT_DB_ALIAS in databases:
        checks.append(Migrations())
    checks.append(Cache(alias="default", critical=_session_cache("default")))
    shared = core.HARDENING_CACHE
    if ratelimit.HARDENING_RATELIMIT_ENABLED and shared != "default":
        checks.append(Cache(alias=shared, label="ratelimit_cache", critical=_session_cache(shared)))
    checks += [Disk(paths=[tempfile.gettempdir()]), Jwks()]
    return checks


def readiness_checks() -> list[HealthCheck]:
    """The checks ``/health/ready`` runs, built from the settings on each call."""
    entries = conf.HARDENING_HEALTH_CHECKS
    if entries is None:
        return automatic()
    return [build(name, options) for name, options in entries]
