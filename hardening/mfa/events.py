"""Audit events and metrics of the MFA capability (never with codes, secrets or tokens)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from hardening.observability.audit import audit
from hardening.observability.metrics import MFA_FAILURES

_EVENTS = {"replay": "mfa.replay", "throttled": "mfa.throttled"}


def failure(reason: str, request: HttpRequest | None, **fields: Any) -> None:
    """Count and record a refused MFA attempt; ``reason`` is from a fixed set."""
    MFA_FAILURES.labels(reason=reason).inc()
    audit(_EVENTS.get(reason, "mfa.failed"), request=request, reason=reason, **fields)
