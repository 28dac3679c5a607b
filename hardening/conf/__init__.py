"""The only place django-hardening reads Django settings.

Every setting is a flat ``HARDENING_*`` name read on access through a typed property, so
``override_settings`` works everywhere without signal handlers.  Nothing is read at import
time.  Each capability keeps its properties in its own module of this package; ``conf``
combines them into one object.
"""

from __future__ import annotations

from hardening.conf.health import HealthSettings
from hardening.conf.jwt import JWTSettings
from hardening.conf.mfa import MFASettings
from hardening.conf.observability import ObservabilitySettings
from hardening.conf.timeout import TimeoutSettings

__all__ = ["Settings", "conf"]


class Settings(JWTSettings, MFASettings, TimeoutSettings, HealthSettings, ObservabilitySettings):
    """Shadow Django's settings with django-hardening's defaults."""


conf = Settings()
