"""Settings of the health probes (``hardening.health``).

``HARDENING_HEALTH_CHECKS`` is the one list of readiness checks: ``None`` (the default) runs
the automatic set (every database alias, the shared cache(s), disk, migrations, and the JWKS
of the configured issuers); a list replaces it, each entry a built-in name
(:data:`BUILT_IN`) or the dotted path of a django-health-check ``HealthCheck``, alone or as
``(name, kwargs)``.  How long a result is reused is the constant
:data:`hardening.health.runner.CACHE_SECONDS`.  A value that does not parse falls back to
its default and is reported by :mod:`hardening.health.checks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hardening.conf import parse
from hardening.conf.base import Reader, setting

#: The names of the built-in checks (:mod:`hardening.health.probes`).
BUILT_IN = ("database", "migrations", "cache", "disk", "jwks")

#: One entry of ``HARDENING_HEALTH_CHECKS``: a name or dotted path and its keyword arguments.
Entry = tuple[str, dict[str, Any]]

_ENTRY = "a built-in name ({}), a dotted path, or (name, kwargs)".format(", ".join(BUILT_IN))


def _entry(item: Any) -> Entry:
    if isinstance(item, str):
        name, options = item, {}
    elif (
        isinstance(item, list | tuple)
        and len(item) == 2
        and isinstance(item[0], str)
        and isinstance(item[1], Mapping)
    ):
        name, options = item[0], {str(key): value for key, value in item[1].items()}
    else:
        raise ValueError(f"{item!r} is not {_ENTRY}")
    if name not in BUILT_IN and "." not in name:
        raise ValueError(f"{name!r} is not {_ENTRY}")
    critical = options.get("critical", False)
    if not isinstance(critical, bool):
        raise ValueError(f"{item!r}: 'critical' must be True or False")
    return name, options


def checks(value: Any) -> list[Entry]:
    """The entries of ``HARDENING_HEALTH_CHECKS`` (a list; ``None`` is handled apart)."""
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise TypeError(f"expected a list of checks or None, got {type(value).__name__}")
    return [_entry(item) for item in value]


def timeout(value: Any) -> float:
    seconds = parse.seconds(value)
    if not 0 < seconds <= 60:
        raise ValueError(f"expected more than 0 and at most 60 seconds, got {value!r}")
    return seconds


class Settings(Reader):
    removed = {
        "HARDENING_HEALTH_DATABASES": "HARDENING_HEALTH_CHECKS entries ('database', {'alias': …})",
        "HARDENING_HEALTH_MIGRATIONS": "HARDENING_HEALTH_CHECKS with or without 'migrations'",
        "HARDENING_HEALTH_CACHES": "HARDENING_HEALTH_CHECKS entries ('cache', {'alias': …})",
        "HARDENING_HEALTH_DISK_PATHS": "HARDENING_HEALTH_CHECKS entries ('disk', {'path': …})",
        "HARDENING_HEALTH_DISK_MAX_PERCENT": (
            "HARDENING_HEALTH_CHECKS entries ('disk', {'max_percent': …})"
        ),
        "HARDENING_HEALTH_DISK_WARN_PERCENT": (
            "HARDENING_HEALTH_CHECKS entries ('disk', {'warn_percent': …})"
        ),
        "HARDENING_HEALTH_JWKS": "HARDENING_HEALTH_CHECKS with or without 'jwks'",
        "HARDENING_HEALTH_EXTRA_CHECKS": (
            "HARDENING_HEALTH_CHECKS (dotted paths or (path, kwargs), after the built-in names)"
        ),
        "HARDENING_HEALTH_CACHE_SECONDS": (
            "nothing: a result is reused for hardening.health.runner.CACHE_SECONDS (1 s)"
        ),
        "HARDENING_HEALTH_FAIL_ON_WARNING": (
            "HARDENING_HEALTH_CRITICAL: a check named there fails readiness on a warning"
        ),
        "HARDENING_HEALTH_NONCRITICAL": (
            "HARDENING_HEALTH_CHECKS entries with {'critical': False}: a failure is 'degraded'"
        ),
        "HARDENING_HEALTH_ALLOWED_IPS": "HARDENING_OPERATOR_IPS",
    }

    HARDENING_HEALTH_TOKEN = setting(
        "",
        parse.string,
        "Bearer token that unlocks the detailed readiness body (at least 32 characters).",
    )
    HARDENING_HEALTH_TIMEOUT = setting(
        2.0, timeout, "Seconds each readiness check may take, more than 0 and at most 60."
    )
    HARDENING_HEALTH_CRITICAL = setting(
        list[str](),
        parse.strings,
        "Check names whose ``degraded`` or ``warning`` result fails readiness (503), e.g. "
        "``['cache']`` when views cannot work without that cache.",
    )
    HARDENING_HEALTH_CHECKS = setting[list[Entry] | None](
        None,
        parse.optional(checks),
        "The readiness checks: None (automatic) or a list of built-in names and dotted paths "
        "of django-health-check checks, each alone or as ``(name, kwargs)``.",
    )


conf = Settings()
