"""The only place django-hardening reads Django settings.

Every setting is a flat ``HARDENING_*`` name read on access through a typed descriptor
(:class:`~hardening.conf.base.setting`), so ``override_settings`` works everywhere without
signal handlers, and nothing is read at import time.  Each room declares its own settings on
a :class:`~hardening.conf.base.Reader` in ``<room>/conf.py``; ``conf`` here holds the settings
every room shares (:mod:`hardening.conf.core`).
"""

from __future__ import annotations

from hardening.conf.base import Reader, configured, setting
from hardening.conf.core import CoreSettings
from hardening.conf.health import HealthSettings
from hardening.conf.observability import ObservabilitySettings
from hardening.conf.timeout import TimeoutSettings

__all__ = ["Reader", "Settings", "conf", "configured", "setting"]


class Settings(
    CoreSettings,
    TimeoutSettings,
    HealthSettings,
    ObservabilitySettings,
):
    """Shadow Django's settings with django-hardening's defaults (transition: the rooms not
    moved to a reader of their own still add their properties here)."""


conf = Settings()
