"""Settings of the request timeouts (``hardening.timeout``)."""

from __future__ import annotations

from typing import Any

from hardening.conf.base import BaseSettings, _get

__all__ = ["TimeoutSettings"]


class TimeoutSettings(BaseSettings):
    # -- timeouts (hardening.timeout) ---------------------------------------------------

    @property
    def HARDENING_REQUEST_TIMEOUT(self) -> Any:
        """Seconds a request may take (default 30); ``None`` or ``0`` disables the deadline.
        Parsed and validated by ``hardening.timeout.config`` (hardening.E401)."""
        return _get("HARDENING_REQUEST_TIMEOUT", 30.0)

    @property
    def HARDENING_REQUEST_TIMEOUT_EXEMPT(self) -> Any:
        """Path prefixes without a deadline (health probes, metrics scrapes)."""
        return _get("HARDENING_REQUEST_TIMEOUT_EXEMPT", ["/health/", "/metrics"])

    @property
    def HARDENING_REQUEST_TIMEOUT_ROUTES(self) -> Any:
        """``{path prefix: seconds or None}``; the longest matching prefix wins."""
        return _get("HARDENING_REQUEST_TIMEOUT_ROUTES", {})

    @property
    def HARDENING_REQUEST_TIMEOUT_DB(self) -> str:
        """PostgreSQL statement timeouts: ``auto``, ``local`` (pgbouncer) or ``off``."""
        return str(_get("HARDENING_REQUEST_TIMEOUT_DB", "auto"))

    @property
    def HARDENING_REQUEST_TIMEOUT_SIGNAL(self) -> bool:
        """Also arm a main-thread ``SIGALRM`` timer (gunicorn sync workers only)."""
        return bool(_get("HARDENING_REQUEST_TIMEOUT_SIGNAL", False))

    @property
    def HARDENING_SERVER_TIMEOUT(self) -> Any:
        """The server's or proxy's own timeout in seconds, when known (hardening.E403)."""
        return _get("HARDENING_SERVER_TIMEOUT", None)
