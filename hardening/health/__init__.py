"""Liveness and readiness probes on django-health-check: 503 on failure, every check
bounded by a timeout, results cached briefly, details only for trusted callers.

    path("health/", include("hardening.health.urls"))
"""

from __future__ import annotations
