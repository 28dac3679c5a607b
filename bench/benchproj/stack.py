"""The hardening variant, derived from ``example_project/settings.py`` at run time.

The example project's settings module is imported with production-like environment
variables pointing at the benchmark's services (SQLite file, Redis, loopback JWKS), so the
hardening variant gets exactly the example's settings, middleware order and DRF
authentication classes.  From its ``MIDDLEWARE`` the benchmark keeps the hardening stack
(django-prometheus, Django's ``SecurityMiddleware`` and every ``hardening.*`` entry) and
leaves out Django's general-purpose middleware (sessions, common, CSRF, auth, messages,
clickjacking), which neither the bare nor the peer variant runs; set
``PERF_KEEP_DJANGO_DEFAULTS=1`` to keep them.  Nothing is guessed: an example without a
hardening DRF authentication class is an error, and ``bench/run.py`` smoke-tests the servers
before it measures them.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

SECURITY = "django.middleware.security.SecurityMiddleware"
#: Django middleware that belongs to the hardening stack (Django 6 sends SECURE_CSP itself).
KEEP = (SECURITY, "django.middleware.csp.ContentSecurityPolicyMiddleware")
HUGE = 1_000_000_000
#: hardening.conf's default HARDENING_RATELIMIT_POLICIES (used when the example sets none;
#: conf cannot be read before Django's settings are configured).
DEFAULT_POLICIES = [
    {"name": "user", "key": "user", "rates": ["100/m"]},
    {"name": "ip", "key": "anon", "rates": ["60/m"]},
    {"name": "global", "key": "global", "rates": ["10000/m"]},
]


def example_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the example project's settings are read with."""
    keydir = os.environ.get("PERF_KEYDIR", "")
    env = {
        "DJANGO_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "k9Q2xV7mZ4pL8wR3tY6uN1bH5jC0fG" * 2,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "CACHE_URL": os.environ.get("PERF_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "SECURE_PROXY_SSL_HEADER": "true",
        "FIELD_ENCRYPTION_KEYS": "7n9WqRFSI6I3pCltGhSGFzufDteIUDskKj5otV6-8nA=",  # random: E051
        "METRICS_TOKEN": "bench-metrics-Xq7Lw2Nz9Rk4Tp8Vm3Bj6Hs1Dc5Fg0Y",
        "RATE_LIMIT_USER": f"{HUGE}/m",
        "RATE_LIMIT_IP": f"{HUGE}/m",
        "RATE_LIMIT_GLOBAL": f"{HUGE}/m",
        "RATE_LIMIT_AUTH": f"{HUGE}/m",
    }
    if os.environ.get("PERF_DB"):
        env["DATABASE_URL"] = "sqlite:///" + os.environ["PERF_DB"]
    if keydir:
        with open(os.path.join(keydir, "private.pem"), encoding="utf-8") as handle:
            env["JWT_PRIVATE_KEY"] = handle.read()
        with open(os.path.join(keydir, "public.pem"), encoding="utf-8") as handle:
            env["JWT_PUBLIC_KEY"] = handle.read()
    if os.environ.get("PERF_ISSUER"):
        env["OIDC_ISSUER"] = os.environ["PERF_ISSUER"]
        env["OIDC_JWKS_URL"] = os.environ["PERF_JWKS_URL"]
        env["OIDC_AUDIENCE"] = "bench"
    env.update(extra or {})
    return env


def example_settings() -> dict[str, Any]:
    """Every upper-case name of ``example_project.settings`` read under :func:`example_env`."""
    saved = dict(os.environ)
    try:
        for name in list(os.environ):
            if name in ("DATABASE_URL", "CACHE_URL", "SENTRY_DSN"):
                del os.environ[name]
        os.environ.update(example_env())
        sys.modules.pop("example_project.settings", None)
        module = importlib.import_module("example_project.settings")
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {name: getattr(module, name) for name in dir(module) if name.isupper()}


def scale_rates(policies: Any, scale: int) -> Any:
    """Same policies, every count times ``scale`` (the "mix": limits that apply, scaled so
    that nothing is refused at the load the benchmark makes)."""
    result = []
    for policy in policies:
        policy = dict(policy)
        rates = policy.get("rates", [])
        rates = [rates] if isinstance(rates, (str, tuple)) else rates
        scaled = []
        for rate in rates:
            if isinstance(rate, tuple):
                scaled.append((rate[0] * scale, rate[1]))
            else:
                count, period = str(rate).split("/", 1)
                scaled.append(f"{int(count) * scale}/{period}")
        policy["rates"] = scaled
        result.append(policy)
    return result


def raise_rates(policies: Any) -> Any:
    """Same policies, every rate at ``HUGE`` per its period: counted but never blocking."""
    if not isinstance(policies, (list, tuple)):
        return policies
    result = []
    for policy in policies:
        policy = dict(policy)
        rates = policy.get("rates", [])
        rates = [rates] if isinstance(rates, (str, tuple)) else rates
        raised = []
        for rate in rates:
            if isinstance(rate, tuple):
                raised.append((HUGE, rate[1]))
            else:
                raised.append(f"{HUGE}/{str(rate).split('/', 1)[1]}")
        policy["rates"] = raised
        result.append(policy)
    return result


def describe(example: dict[str, Any] | None = None) -> dict[str, Any]:
    """The hardening variant's middleware, DRF auth and permission classes (for the results)."""
    example = example_settings() if example is None else example
    keep_defaults = os.environ.get("PERF_KEEP_DJANGO_DEFAULTS") == "1"
    listed = [str(path) for path in example["MIDDLEWARE"]]
    middleware = [
        path
        for path in listed
        if keep_defaults or path in KEEP or path.startswith(("hardening.", "django_prometheus."))
    ]
    rest_framework = dict(example["REST_FRAMEWORK"])
    auth = [
        str(c)
        for c in rest_framework.get("DEFAULT_AUTHENTICATION_CLASSES", [])
        if str(c).startswith("hardening.")
    ]
    if not auth:
        raise RuntimeError("example_project's REST_FRAMEWORK has no hardening authentication class")
    permissions = rest_framework.get("DEFAULT_PERMISSION_CLASSES", [])
    return {
        "example": listed,
        "middleware": middleware,
        "dropped": [path for path in listed if path not in middleware],
        "auth_classes": auth,
        "permission_classes": ["rest_framework.permissions.IsAuthenticated"]
        + [str(p) for p in permissions if str(p).startswith("hardening.")],
    }
