"""The base of the settings object: how a setting is read, and the environment."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from hardening.env import ENVIRONMENTS

__all__ = ["BaseSettings"]


def _get(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


class BaseSettings:
    # -- core -----------------------------------------------------------------------

    @property
    def HARDENING_ENVIRONMENT(self) -> str:
        """``production`` (the default: secure unless told otherwise), ``development``, ``test``."""
        value = _get("HARDENING_ENVIRONMENT", "production")
        return str(value)

    @property
    def is_production(self) -> bool:
        # An unknown value is reported by hardening.E022 and treated as production.
        return self.HARDENING_ENVIRONMENT not in ENVIRONMENTS[1:]

    @property
    def HARDENING_FAIL_FAST(self) -> bool:
        """Run the Error-level checks when ``hardening.wsgi`` / ``hardening.asgi`` load."""
        return bool(_get("HARDENING_FAIL_FAST", True))

    @property
    def HARDENING_WEAK_SECRET_KEYS(self) -> list[str]:
        """Extra values that must never be used as a secret (your own leaked examples)."""
        return list(_get("HARDENING_WEAK_SECRET_KEYS", []))
