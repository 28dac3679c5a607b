"""Helpers for system-check tests."""

from __future__ import annotations

from cryptography.fernet import Fernet
from django.core.checks import CheckMessage, run_checks
from django.test import override_settings


def check_messages() -> list[CheckMessage]:
    return [m for m in run_checks() if m.id and m.id.startswith("hardening.")]


def check_error_codes() -> dict[str, str]:
    """``{id: level name}`` of every hardening message, e.g. ``{"hardening.E001": "ERROR"}``."""
    names = {10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL"}
    return {m.id: names[m.level] for m in check_messages() if m.id}


STRONG_KEY = "q8Zr!x2Lp#v6Tn@w4Kd$y0Hs%b9Jf^m3Gc&e7Ra*u1Qz(i5Wt)o-Ny_k2Mx+h8Vp"
FERNET = Fernet.generate_key().decode()  # never a published key (hardening.E026)
API_KEY_HASH_KEY = "Vb3k-9Tz_Qm2xW7pLr4sYc8nHd1gFj6aKe0uZi5oBt"
JWT_KEY = "a-dedicated-jwt-signing-key-of-well-over-32-bytes-0123456789"

SAFE_PRODUCTION = {
    "HARDENING_ENVIRONMENT": "production",
    "SECRET_KEY": STRONG_KEY,
    "DEBUG": False,
    "ALLOWED_HOSTS": ["api.example.com"],
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SECURE_HSTS_SECONDS": 63072000,
    "SECURE_SSL_REDIRECT": True,
    "HARDENING_JWT_ALGORITHM": "HS256",
    "HARDENING_JWT_SIGNING_KEY": JWT_KEY,
    "HARDENING_FIELD_ENCRYPTION_KEYS": [FERNET],
    "HARDENING_WEBAUTHN_RP_ID": "api.example.com",
    "HARDENING_API_KEY_HASH_KEY": API_KEY_HASH_KEY,
    "CACHES": {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
        }
    },
}


def production(**changes: object) -> override_settings:
    return override_settings(**{**SAFE_PRODUCTION, **changes})


def assert_reported(changes: dict[str, object], code: str, *, environment: str) -> None:
    """``code`` is reported for ``changes`` over :data:`SAFE_PRODUCTION`: in production an
    ``hardening.E…`` as an Error (a ``W…`` as a Warning), in development always a Warning."""
    with override_settings(**{**SAFE_PRODUCTION, "HARDENING_ENVIRONMENT": environment, **changes}):
        codes = check_error_codes()
    error = environment == "production" and not code.startswith("hardening.W")
    assert codes.get(code) == ("ERROR" if error else "WARNING"), codes


#: The example project's production environment with every secret set (``manage.py check``
#: passes with it); tests add weak values to see the checks refuse them.
PRODUCTION_SECRETS = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": STRONG_KEY,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "JWT_SIGNING_KEY": JWT_KEY,
    "FIELD_ENCRYPTION_KEYS": FERNET,
    "API_KEY_HASH_KEY": API_KEY_HASH_KEY,
    "CACHE_URL": "redis://127.0.0.1:6379/15",
}

#: ``manage.py check`` of the example project (run from the repository root).
MANAGE = ["example_project/manage.py", "check"]
