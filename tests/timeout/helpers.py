"""Shared helpers for the timeout tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.test import override_settings

from hardening.observability.audit import security_event
from hardening.observability.metrics import TIMEOUTS

MIDDLEWARE = ["hardening.middleware.TimeoutMiddleware"]


def timeout_settings(seconds: float = 0.3, **extra: Any) -> override_settings:
    return override_settings(
        ROOT_URLCONF="tests.timeout.urls",
        MIDDLEWARE=MIDDLEWARE,
        HARDENING_REQUEST_TIMEOUT=seconds,
        **extra,
    )


def timeouts(kind: str) -> float:
    return float(TIMEOUTS.labels(kind=kind)._value.get())


@contextmanager
def audited() -> Iterator[list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []

    def receiver(sender: Any, event: str, fields: dict[str, Any], **kwargs: Any) -> None:
        events.append({"event": event, **fields})

    security_event.connect(receiver, weak=False)
    try:
        yield events
    finally:
        security_event.disconnect(receiver)
