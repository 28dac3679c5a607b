"""``hardening.W090``: drf-spectacular is installed but DRF does not use its schema class, so
the extensions of :mod:`hardening.openapi` describe nothing."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage

from hardening.checks import register, warning

SCHEMA = "drf_spectacular.openapi.AutoSchema"


@register
def check_schema_class(**kwargs: Any) -> list[CheckMessage]:
    if not apps.is_installed("drf_spectacular"):
        return []
    configured = (getattr(settings, "REST_FRAMEWORK", None) or {}).get("DEFAULT_SCHEMA_CLASS")
    if configured == SCHEMA:
        return []
    return [
        warning(
            "W090",
            "drf_spectacular is installed but is not DRF's DEFAULT_SCHEMA_CLASS.",
            "REST_FRAMEWORK = rest_framework_settings(**rest_framework_schema()) "
            "(hardening.openapi).",
        )
    ]
