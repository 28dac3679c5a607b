"""The only place django-hardening reads Django settings.

Every setting is a flat ``HARDENING_*`` name read on access through a typed descriptor
(:class:`~hardening.conf.base.setting`), so ``override_settings`` works everywhere without
signal handlers, and nothing is read at import time.  Each room declares its own settings on
a :class:`~hardening.conf.base.Reader` in ``<room>/conf.py``; ``conf`` here holds the settings
every room shares (:mod:`hardening.conf.core`).
"""

from __future__ import annotations

from hardening.conf.base import Reader as Reader
from hardening.conf.base import configured as configured
from hardening.conf.base import setting as setting
from hardening.conf.core import CoreSettings

conf = CoreSettings()
