"""Settings of observability and security headers.

Read by ``hardening.observability`` and ``hardening.headers``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from hardening.conf.base import BaseSettings, _get

__all__ = ["ObservabilitySettings"]


class ObservabilitySettings(BaseSettings):
    # -- observability and headers (hardening.observability, hardening.headers) ---------

    @property
    def HARDENING_METRICS_TOKEN(self) -> str:
        """Bearer token that unlocks ``/metrics`` (``METRICS_TOKEN`` in the example)."""
        return str(_get("HARDENING_METRICS_TOKEN", "") or "")

    @property
    def HARDENING_METRICS_ALLOWED_IPS(self) -> list[str]:
        """Addresses/networks (``REMOTE_ADDR``) allowed to read ``/metrics`` without a token.
        Default: loopback when no token is set, nobody when one is."""
        default = [] if self.HARDENING_METRICS_TOKEN else ["127.0.0.1", "::1"]
        return [str(ip) for ip in _get("HARDENING_METRICS_ALLOWED_IPS", default)]

    @property
    def HARDENING_CSP(self) -> dict[str, Any]:
        """Content-Security-Policy of HTML responses (Django 6 ``SECURE_CSP`` format)."""
        from hardening.headers.csp import DEFAULT_CSP

        default = getattr(settings, "SECURE_CSP", None) or DEFAULT_CSP
        return dict(_get("HARDENING_CSP", default))

    @property
    def HARDENING_CSP_API(self) -> dict[str, Any]:
        """Content-Security-Policy of API (JSON) responses: nothing may load."""
        from hardening.headers.csp import API_CSP

        return dict(_get("HARDENING_CSP_API", API_CSP))

    @property
    def HARDENING_API_PATH_PREFIXES(self) -> list[str]:
        return [str(p) for p in _get("HARDENING_API_PATH_PREFIXES", ["/api/"])]

    @property
    def HARDENING_NO_STORE_PATH_PREFIXES(self) -> list[str]:
        """Paths answered with ``Cache-Control: no-store`` unless the view set caching."""
        default = [*self.HARDENING_API_PATH_PREFIXES, "/account/", "/accounts/", "/admin/"]
        return [str(p) for p in _get("HARDENING_NO_STORE_PATH_PREFIXES", default)]

    @property
    def HARDENING_PERMISSIONS_POLICY(self) -> dict[str, list[str]]:
        """``{feature: [allowlist]}``; ``[]`` disables the feature (the default for all)."""
        from hardening.headers.policies import DEFAULT_PERMISSIONS_POLICY

        value = _get("HARDENING_PERMISSIONS_POLICY", DEFAULT_PERMISSIONS_POLICY)
        return {str(k): list(v) for k, v in dict(value).items()}

    @property
    def HARDENING_CROSS_ORIGIN_RESOURCE_POLICY(self) -> str:
        return str(_get("HARDENING_CROSS_ORIGIN_RESOURCE_POLICY", "same-origin") or "")

    @property
    def HARDENING_CROSS_ORIGIN_EMBEDDER_POLICY(self) -> str:
        """Sent on HTML responses only; ``""`` turns it off (needed for cross-origin embeds)."""
        return str(_get("HARDENING_CROSS_ORIGIN_EMBEDDER_POLICY", "require-corp") or "")

    @property
    def HARDENING_CLEAR_SITE_DATA(self) -> str:
        """``Clear-Site-Data`` sent when a session logs out; ``""`` turns it off."""
        default = '"cache", "cookies", "storage"'
        return str(_get("HARDENING_CLEAR_SITE_DATA", default) or "")
