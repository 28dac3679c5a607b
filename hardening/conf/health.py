"""Settings of the health probes (``hardening.health``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from hardening.conf.base import BaseSettings, _get

__all__ = ["HealthSettings"]


class HealthSettings(BaseSettings):
    # -- health (hardening.health) -------------------------------------------------------

    @property
    def HARDENING_HEALTH_TIMEOUT(self) -> Any:
        """Seconds each readiness check may take before it counts as failed (default 2)."""
        return _get("HARDENING_HEALTH_TIMEOUT", 2.0)

    @property
    def HARDENING_HEALTH_CACHE_SECONDS(self) -> Any:
        """Seconds a readiness result is reused by the same process (0 disables)."""
        return _get("HARDENING_HEALTH_CACHE_SECONDS", 1.0)

    @property
    def HARDENING_HEALTH_DATABASES(self) -> list[str]:
        """Database aliases checked with ``SELECT 1`` (default: every alias in DATABASES)."""
        default = list(getattr(settings, "DATABASES", {}) or {})
        return [str(alias) for alias in _get("HARDENING_HEALTH_DATABASES", default)]

    @property
    def HARDENING_HEALTH_MIGRATIONS(self) -> bool:
        """Fail readiness while the default database has unapplied migrations."""
        return bool(_get("HARDENING_HEALTH_MIGRATIONS", True))

    @property
    def HARDENING_HEALTH_CACHES(self) -> list[str]:
        """Cache aliases checked with a write/read round trip (the rate-limit cache is
        added when it differs)."""
        return [str(alias) for alias in _get("HARDENING_HEALTH_CACHES", ["default"])]

    @property
    def HARDENING_HEALTH_DISK_PATHS(self) -> list[str]:
        """Directories whose file system must have room (default: the temp directory)."""
        import tempfile

        return [str(p) for p in _get("HARDENING_HEALTH_DISK_PATHS", [tempfile.gettempdir()])]

    @property
    def HARDENING_HEALTH_DISK_MAX_PERCENT(self) -> Any:
        """Disk usage (percent) at or above which readiness fails."""
        return _get("HARDENING_HEALTH_DISK_MAX_PERCENT", 95.0)

    @property
    def HARDENING_HEALTH_DISK_WARN_PERCENT(self) -> Any:
        """Disk usage (percent) at or above which readiness warns; None disables."""
        return _get("HARDENING_HEALTH_DISK_WARN_PERCENT", 85.0)

    @property
    def HARDENING_HEALTH_JWKS(self) -> bool:
        """Check the JWKS of configured issuers (fresh in cache or fetchable)."""
        return bool(_get("HARDENING_HEALTH_JWKS", True))

    @property
    def HARDENING_HEALTH_EXTRA_CHECKS(self) -> list[Any]:
        """More django-health-check checks: dotted paths or ``(path, kwargs)`` pairs."""
        return list(_get("HARDENING_HEALTH_EXTRA_CHECKS", []))

    @property
    def HARDENING_HEALTH_NONCRITICAL(self) -> list[str]:
        """Check names whose failure is only a warning (e.g. ``["jwks"]``)."""
        return [str(name) for name in _get("HARDENING_HEALTH_NONCRITICAL", [])]

    @property
    def HARDENING_HEALTH_CRITICAL(self) -> list[str]:
        """Check names whose ``degraded`` result is an error (503), e.g. ``["cache"]``
        when views cannot work without that cache."""
        return [str(name) for name in _get("HARDENING_HEALTH_CRITICAL", [])]

    @property
    def HARDENING_HEALTH_FAIL_ON_WARNING(self) -> bool:
        """Answer 503 on warnings too (default: warnings stay 200)."""
        return bool(_get("HARDENING_HEALTH_FAIL_ON_WARNING", False))

    @property
    def HARDENING_HEALTH_TOKEN(self) -> str:
        """Bearer token that unlocks the detailed readiness body (``HEALTH_TOKEN``)."""
        return str(_get("HARDENING_HEALTH_TOKEN", "") or "")

    @property
    def HARDENING_HEALTH_ALLOWED_IPS(self) -> list[str]:
        """Addresses/networks that see the detailed body without a token.
        Default: loopback when no token is set, nobody when one is."""
        default = [] if self.HARDENING_HEALTH_TOKEN else ["127.0.0.1", "::1"]
        return [str(ip) for ip in _get("HARDENING_HEALTH_ALLOWED_IPS", default)]
