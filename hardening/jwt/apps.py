"""Start-up guard for simplejwt's token blacklist app.

simplejwt's ``settings`` module reads ``SECRET_KEY`` at import time, and the blacklist app's
``admin`` module imports it.  With an empty ``SECRET_KEY`` (a production deploy that forgot
it) ``admin.autodiscover()`` would crash Django's start-up with a bare ImproperlyConfigured
before hardening's checks can report ``hardening.E001`` and refuse to start properly.

List ``"hardening.jwt.apps.JWTConfig"`` in ``INSTALLED_APPS`` *before*
``"django.contrib.admin"``: only when ``SECRET_KEY`` is unusable, its ``ready()`` gives
``autodiscover`` an empty stand-in for that one admin module (the process is about to be
refused anyway).  With a usable key it does nothing.
"""

from __future__ import annotations

import sys
from types import ModuleType

from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["JWTConfig"]

BLACKLIST_ADMIN = "rest_framework_simplejwt.token_blacklist.admin"


def secret_key_usable() -> bool:
    try:
        return bool(settings.SECRET_KEY)
    except ImproperlyConfigured:
        return False


class JWTConfig(AppConfig):
    name = "hardening.jwt"
    label = "hardening_jwt"
    verbose_name = "Hardening: tokens"

    def ready(self) -> None:
        if not secret_key_usable() and BLACKLIST_ADMIN not in sys.modules:
            sys.modules[BLACKLIST_ADMIN] = ModuleType(BLACKLIST_ADMIN)
