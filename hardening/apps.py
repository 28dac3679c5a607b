"""The ``hardening`` app: each room registers its own system checks when its ``checks``
module is imported, and connects its own signal receivers."""

from __future__ import annotations

import pkgutil
from importlib import import_module
from importlib.util import find_spec

from django.apps import AppConfig
from django.core.checks import Tags, register

from hardening.extras import installed


class HardeningConfig(AppConfig):
    name = "hardening"
    verbose_name = "Hardening"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import hardening
        from hardening import checks, outage
        from hardening.deploy import duplicates
        from hardening.jwt import tokens
        from hardening.mfa import lockout
        from hardening.observability import auth_events, correlation
        from hardening.timeout import db as timeout_db

        for room in pkgutil.iter_modules(hardening.__path__):
            name = f"hardening.{room.name}.checks"
            if room.ispkg and find_spec(name) is not None:
                import_module(name)  # its checks register themselves
        # A development runserver prints one line, not every production-only finding.
        register(Tags.security)(checks.summary)
        duplicates.install()  # check --deploy: each problem once
        correlation.connect_celery()  # the "celery" extra: request IDs travel with tasks
        if installed("drf_spectacular"):  # the "openapi" extra
            import_module("hardening.openapi.extensions")  # registers the extensions
        timeout_db.install()
        auth_events.connect()
        lockout.connect()
        tokens.connect()
        outage.connect()
