"""Settings of the benchmark project; ``PERF_VARIANT`` picks ``bare``, ``peer``,
``hardening`` or ``all`` (every view in one process, for ``bench/inproc.py``).

Environment (set by ``bench/run.py`` / ``bench/inproc.py``): ``PERF_DB`` (SQLite file),
``PERF_KEYDIR`` (test keypair), ``PERF_ISSUER`` / ``PERF_JWKS_URL`` (loopback JWKS),
``PERF_REDIS_URL`` and ``PERF_REDIS_PREFIX`` (a key prefix unique to the run).
"""

from __future__ import annotations

import os
from pathlib import Path

from benchproj import stack

PERF_VARIANT = os.environ.get("PERF_VARIANT", "bare")
if PERF_VARIANT not in ("bare", "peer", "hardening", "all"):
    raise RuntimeError(f"PERF_VARIANT must be bare, peer, hardening or all, not {PERF_VARIANT!r}")

KEYDIR = Path(os.environ.get("PERF_KEYDIR", "/nonexistent"))
REDIS_URL = os.environ.get("PERF_REDIS_URL", "redis://127.0.0.1:6379/0")
REDIS_PREFIX = os.environ.get("PERF_REDIS_PREFIX", "bench-default")
DB_PATH = os.environ.get("PERF_DB", "/tmp/bench-db.sqlite3")


def _redis(prefix: str) -> dict[str, object]:
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": prefix,
    }


# -- common to every variant --------------------------------------------------------

SECRET_KEY = "bench-" + "k9Q2xV7mZ4pL8wR3tY6uN1bH5jC0fG" * 2
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"]
MIDDLEWARE: list[str] = []
CACHES: dict[str, dict[str, object]] = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}
REST_FRAMEWORK: dict[str, object] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}

# -- hardening: the example project's settings, pointed at the bench services ----------

HARDENING_STACK: dict[str, object] = {}
HARDENING_AUTH_CLASSES: list[str] = []
HARDENING_PERMISSION_CLASSES: list[str] = []
if PERF_VARIANT in ("hardening", "all"):
    _example = stack.example_settings()
    HARDENING_STACK = stack.describe(_example)
    globals().update(_example)
    INSTALLED_APPS = list(_example["INSTALLED_APPS"])
    for _app in ("django_prometheus",):
        if _app not in INSTALLED_APPS:
            INSTALLED_APPS.append(_app)
    MIDDLEWARE = list(HARDENING_STACK["middleware"])  # type: ignore[call-overload]
    HARDENING_AUTH_CLASSES = list(HARDENING_STACK["auth_classes"])  # type: ignore[call-overload]
    HARDENING_PERMISSION_CLASSES = list(HARDENING_STACK["permission_classes"])  # type: ignore[call-overload]
    CACHES = {}
    for _alias, _cache in _example["CACHES"].items():
        _cache = dict(_cache)
        if "redis" in str(_cache.get("BACKEND", "")).lower():
            _cache["KEY_PREFIX"] = f"{REDIS_PREFIX}-h-{_cache.get('KEY_PREFIX', '')}"
        CACHES[_alias] = _cache
    _policies = _example.get("HARDENING_RATELIMIT_POLICIES") or stack.DEFAULT_POLICIES
    if os.environ.get("PERF_RATE_SCALE"):  # the "mix": the example's rates x scale
        HARDENING_RATELIMIT_POLICIES = stack.scale_rates(
            _policies, int(os.environ["PERF_RATE_SCALE"])
        )
        HARDENING_TRUSTED_PROXY_COUNT = 1  # the client address from X-Forwarded-For
    else:
        HARDENING_RATELIMIT_POLICIES = stack.raise_rates(_policies)
    HARDENING_RATELIMIT_ENABLED = True
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
    DEBUG = False

ROOT_URLCONF = "benchproj.urls"
WSGI_APPLICATION = "benchproj.wsgi.application"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DB_PATH,
        "CONN_MAX_AGE": 60,
    }
}

# -- peer: simplejwt RS256 + DB user, django-ratelimit on django-redis, prometheus -----

PEER_MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "benchproj.peer.RequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]
CACHES["bench_peer"] = _redis(f"{REDIS_PREFIX}-p")
RATELIMIT_USE_CACHE = "bench_peer"
RATELIMIT_ENABLE = True
if PERF_VARIANT in ("peer", "all"):
    for _app in ("django_prometheus",):
        if _app not in INSTALLED_APPS:
            INSTALLED_APPS.append(_app)
    # The peer's own SIMPLE_JWT (hardening never reads SIMPLE_JWT, so "all" may replace it).
    SIMPLE_JWT = {
        "ALGORITHM": "RS256",
        "SIGNING_KEY": (KEYDIR / "private.pem").read_text() if KEYDIR.exists() else "",
        "VERIFYING_KEY": (KEYDIR / "public.pem").read_text() if KEYDIR.exists() else "",
        "USER_ID_CLAIM": "user_id",
        "USER_ID_FIELD": "id",
        "AUTH_HEADER_TYPES": ("Bearer",),
    }
if PERF_VARIANT == "peer":
    MIDDLEWARE = list(PEER_MIDDLEWARE)
