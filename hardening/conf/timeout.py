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
        """Arm a ``SIGALRM`` timer for requests served in the main thread (gunicorn sync
        workers) when nothing else uses ``SIGALRM``; ``False`` never arms it."""
        return bool(_get("HARDENING_REQUEST_TIMEOUT_SIGNAL", True))

    @property
    def HARDENING_REQUEST_TIMEOUT_THREAD(self) -> bool:
        """WSGI requests served outside the main thread (gunicorn gthread) run in a helper
        thread, so the 504 is sent at the deadline; ``False`` runs them in place."""
        return bool(_get("HARDENING_REQUEST_TIMEOUT_THREAD", True))

    @property
    def HARDENING_SERVER_TIMEOUT(self) -> Any:
        """The server's or proxy's own timeout in seconds, when known (hardening.E403)."""
        return _get("HARDENING_SERVER_TIMEOUT", None)
