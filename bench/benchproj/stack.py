"""The hardening variant, derived from ``example_project/settings.py`` at run time.

The example project's settings module is imported with production-like environment
variables pointing at the benchmark's services (SQLite file, Redis, loopback JWKS), so the
hardening variant gets exactly the example's settings, middleware order and DRF
authentication classes.  From its ``MIDDLEWARE`` the benchmark keeps the hardening stack
(django-prometheus, Django's ``SecurityMiddleware`` and every ``hardening.*`` entry) and
leaves out Django's general-purpose middleware (sessions, common, CSRF, auth, messages,
clickjacking), which neither the bare nor the peer variant runs; set
``PERF_KEEP_DJANGO_DEFAULTS=1`` to keep them.

A piece of the stack that is expected but not wired into the example yet is inserted at
its place in the documented order when its module exists, else left out; both cases are
reported loudly (:func:`describe` and stderr).  A final run must report no warnings.

Nothing here imports a ``hardening`` middleware: Django is not set up yet when settings
load.  Existence is checked on the source files; ``bench/run.py`` smoke-tests the real thing.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from typing import Any

SECURITY = "django.middleware.security.SecurityMiddleware"
#: Django middleware that belongs to the hardening stack (Django 6 sends SECURE_CSP itself).
KEEP = (SECURITY, "django.middleware.csp.ContentSecurityPolicyMiddleware")
#: (role, canonical dotted path, prefix that recognises the role in the example's list)
EXPECTED: list[tuple[str, str, str]] = [
    (
        "metrics-before",
        "django_prometheus.middleware.PrometheusBeforeMiddleware",
        "django_prometheus.middleware.PrometheusBefore",
    ),
    (
        "request-id",
        "hardening.middleware.RequestMiddleware",
        "hardening.observability.",
    ),
    ("security", SECURITY, SECURITY),
    ("headers", "hardening.middleware.SecurityHeadersMiddleware", "hardening.headers."),
    ("timeout", "hardening.middleware.TimeoutMiddleware", "hardening.timeout."),
    ("jwt", "hardening.middleware.CredentialMiddleware", "hardening.jwt."),
    ("ratelimit", "hardening.middleware.RateLimitMiddleware", "hardening.ratelimit."),
    ("mfa", "", "hardening.mfa."),  # optional: kept when the example has it
    (
        "metrics-after",
        "django_prometheus.middleware.PrometheusAfterMiddleware",
        "django_prometheus.middleware.PrometheusAfter",
    ),
]
STANDIN_AUTH = "benchproj.standin.StandInJWTAuthentication"
HUGE = 1_000_000_000
#: hardening.conf's default HARDENING_RATELIMIT_POLICIES (used when the example sets none;
#: conf cannot be read before Django's settings are configured).
DEFAULT_POLICIES = [
    {"name": "user", "key": "user", "rates": ["100/m"]},
    {"name": "ip", "key": "anon", "rates": ["60/m"]},
    {"name": "global", "key": "global", "rates": ["10000/m"]},
]


def role_of(path: str) -> str | None:
    for role, canonical, prefix in EXPECTED:
        if path == canonical or path.startswith(prefix):  # public name or defining module
            return role
    return "hardening-other" if path.startswith("hardening.") else None


def defined(path: str) -> bool:
    """True when the module of ``path`` exists and its source defines the class."""
    module, _, name = path.rpartition(".")
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return False
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return spec is not None
    with open(spec.origin, encoding="utf-8") as handle:
        source = handle.read()
    # Defined there, or re-exported under its public name (``hardening.middleware``).
    quoted = re.escape(name)
    pattern = rf"^(class {quoted}\b|{quoted}\s*=|from \S+ import {quoted}$|\s+{quoted},$)"
    return re.search(pattern, source, re.M) is not None


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


def derive_middleware(example: list[str]) -> tuple[list[str], dict[str, Any]]:
    keep_defaults = os.environ.get("PERF_KEEP_DJANGO_DEFAULTS") == "1"
    report: dict[str, Any] = {
        "example": list(example),
        "dropped": [],
        "inserted": [],
        "missing": [],
    }
    warnings: list[str] = []
    kept: list[str] = []
    for path in example:
        if role_of(path) is None and path not in KEEP and not keep_defaults:
            report["dropped"].append(path)
        elif not defined(path):
            warnings.append(f"{path} is in the example MIDDLEWARE but does not exist: left out")
            report["missing"].append(path)
        else:
            kept.append(path)
    roles = {role_of(p) for p in kept}
    order = [role for role, _c, _p in EXPECTED]
    for index, (role, canonical, _prefix) in enumerate(EXPECTED):
        if role in roles or not canonical:
            continue
        if defined(canonical):
            before = [i for i, p in enumerate(kept) if role_of(p) in order[:index]]
            kept.insert(before[-1] + 1 if before else 0, canonical)
            report["inserted"].append(canonical)
            warnings.append(f"{canonical} exists but is not in the example MIDDLEWARE: inserted")
        else:
            report["missing"].append(canonical)
            warnings.append(f"MISSING {role}: {canonical} does not exist yet: left out")
    report["warnings"] = warnings
    return kept, report


def derive_auth(rest_framework: dict[str, Any]) -> tuple[list[str], list[str]]:
    classes = [
        str(c)
        for c in rest_framework.get("DEFAULT_AUTHENTICATION_CLASSES", [])
        if str(c).startswith("hardening.")
    ]
    present = [c for c in classes if defined(c)]
    warnings = [
        f"auth class {c} in the example does not exist: left out"
        for c in classes
        if c not in present
    ]
    if not present:
        warnings.append(
            "MISSING JWT auth: the example has no hardening DRF authentication class; "
            f"using the bench stand-in {STANDIN_AUTH} (hardening.jwt parse + verify_external)"
        )
        present = [STANDIN_AUTH]
    return present, warnings


def describe(example: dict[str, Any] | None = None) -> dict[str, Any]:
    """The hardening variant's middleware, auth classes and warnings (for the results)."""
    example = example_settings() if example is None else example
    middleware, report = derive_middleware(list(example.get("MIDDLEWARE", [])))
    auth, auth_warnings = derive_auth(dict(example.get("REST_FRAMEWORK", {})))
    report["middleware"] = middleware
    report["auth_classes"] = auth
    permissions = dict(example.get("REST_FRAMEWORK", {})).get("DEFAULT_PERMISSION_CLASSES", [])
    report["permission_classes"] = ["rest_framework.permissions.IsAuthenticated"] + [
        str(p) for p in permissions if str(p).startswith("hardening.")
    ]
    report["warnings"] = report["warnings"] + auth_warnings
    return report


def warn(report: dict[str, Any]) -> None:
    if os.environ.get("PERF_QUIET_WARNINGS") == "1":
        return
    for line in report["warnings"]:
        print(f"!!! BENCH WARNING (hardening variant): {line}", file=sys.stderr)
