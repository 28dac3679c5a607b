"""Django authentication backends.

``LockoutBackend`` goes first in ``AUTHENTICATION_BACKENDS``: it refuses a locked account
(``HARDENING_LOCKOUT``) before any password is checked, whatever the client address::

    AUTHENTICATION_BACKENDS = [
        "hardening.backends.LockoutBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
"""

from __future__ import annotations

from hardening.mfa.lockout import LockoutBackend

__all__ = ["LockoutBackend"]
