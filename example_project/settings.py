"""Settings of the django-hardening example project.

Everything comes from the environment (see the table in docs/example.md).  Without
``DJANGO_ENV`` it is production (fail safe): nothing insecure is defaulted, missing secrets
are left empty so that ``manage.py check`` and the WSGI/ASGI entry points list every
problem at once.  ``DJANGO_ENV=development`` (README's start command sets it) runs on
SQLite and a local-memory cache with development keys.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import django

from hardening import openapi
from hardening.env import (
    DEFAULT_CSP,
    Env,
    asgi_server_running,
    init_sentry,
    logging_config,
    rest_framework_settings,
    security_settings,
)

BASE_DIR = Path(__file__).resolve().parent
env = Env()

HARDENING_ENVIRONMENT = env.environment()  # DJANGO_ENV; production when unset or empty
PRODUCTION = HARDENING_ENVIRONMENT == "production"
DEVELOPMENT = HARDENING_ENVIRONMENT == "development"

# Development-only values.  Each is rejected by a hardening check in production.
DEV_SECRET_KEY = "django-insecure-example-project-development-key-0123456789abcdefghij"
DEV_JWT_SIGNING_KEY = "example-project-development-jwt-key-do-not-use-in-production"
DEV_FIELD_ENCRYPTION_KEY = "ZXhhbXBsZS1wcm9qZWN0LWRldmVsb3BtZW50LWtleSE="

DEBUG = env.bool("DEBUG", default=DEVELOPMENT)
SECRET_KEY = env.str("SECRET_KEY", default="" if PRODUCTION else DEV_SECRET_KEY)
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

globals().update(
    security_settings(
        HARDENING_ENVIRONMENT,
        behind_proxy=env.bool("SECURE_PROXY_SSL_HEADER", default=False),
        ssl_host=env.str("SECURE_SSL_HOST", default=None),
    )
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_prometheus",
    "hardening",
    "example_project",  # its admin.py adds the "lift rate-limit bans" action to the user admin
    # The "openapi" extra: /api/schema/ and the Swagger UI at /api-docs/ (docs/openapi.md).
    *(["drf_spectacular", "drf_spectacular_sidecar"] if openapi.available() else []),
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "hardening.middleware.RequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Django >= 6.0 sends SECURE_CSP itself; on 5.2 SecurityHeadersMiddleware does.
    *(["django.middleware.csp.ContentSecurityPolicyMiddleware"] if django.VERSION >= (6,) else []),
    "hardening.middleware.SecurityHeadersMiddleware",
    "hardening.middleware.TimeoutMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # 429 + Retry-After for a login refused by the per-account lock (docs/mfa.md).
    "hardening.middleware.LockoutMiddleware",
    "hardening.middleware.CredentialMiddleware",
    "hardening.middleware.RateLimitMiddleware",
    "hardening.middleware.MFAMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-prometheus's after-middleware, its label look-ups cached (docs/observability.md).
    "hardening.middleware.PrometheusAfterMiddleware",
]

# First: refuses a locked account (per-account login throttling, docs/mfa.md).
AUTHENTICATION_BACKENDS = [
    "hardening.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"
ASGI_APPLICATION = "example_project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# -- data stores ----------------------------------------------------------------------

DATABASES = {
    "default": env.db(
        "DATABASE_URL",
        default={"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"},
    )
}
if DATABASES["default"]["ENGINE"].endswith("postgresql") and env.bool(
    "DB_POOL", default=asgi_server_running()
):
    # Under ASGI (uvicorn) persistent connections leak, one per executor thread
    # (hardening.E070): Django's psycopg pool bounds them (docs/deployment.md).
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool replaces persistent connections
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)  # the pool checks on checkout
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "pool",
        {
            "min_size": 1,
            "max_size": env.int("DB_POOL_MAX_SIZE", default=8),
            "timeout": env.float("DB_POOL_TIMEOUT", default=2.0),  # wait for a connection
        },
    )
elif not DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Persistent connections, verified before reuse (hardening.E062 otherwise).
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

CACHES = {
    "default": env.cache(
        "CACHE_URL",
        default={"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    )
}
if CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache":
    # A hung Redis must not hang every request (hardening.W304): rate limits fail open/closed
    # after this timeout, then a circuit breaker skips Redis until it answers (docs/ratelimit.md).
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("SOCKET_TIMEOUT", 0.25)
    CACHES["default"]["OPTIONS"].setdefault("SOCKET_CONNECT_TIMEOUT", 0.25)
elif CACHES["default"]["BACKEND"] == "hardening.cache.RedisClusterCache":
    # CACHE_URL=rediscluster://HOST:PORT[,HOST:PORT...]: the same timeouts, redis-py's names.
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("socket_timeout", 0.25)
    CACHES["default"]["OPTIONS"].setdefault("socket_connect_timeout", 0.25)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# -- internationalisation and static files ----------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# -- secrets for django-hardening ---------------------------------------------------

if env.has("JWT_SIGNING_KEYS"):
    # Key rotation (docs/jwt.md): the JSON that ``manage.py rotate_jwt_keys`` prints.
    HARDENING_JWT_ALGORITHM = env.str("JWT_ALGORITHM", default="RS256")
    HARDENING_JWT_SIGNING_KEY = json.loads(env.str("JWT_SIGNING_KEYS"))
elif env.has("JWT_PRIVATE_KEY"):
    HARDENING_JWT_ALGORITHM = env.str("JWT_ALGORITHM", default="RS256")
    HARDENING_JWT_SIGNING_KEY = env.str("JWT_PRIVATE_KEY")
    HARDENING_JWT_VERIFYING_KEY = env.str("JWT_PUBLIC_KEY", default="")
else:
    HARDENING_JWT_ALGORITHM = env.str("JWT_ALGORITHM", default="HS256")
    HARDENING_JWT_SIGNING_KEY = env.str(
        "JWT_SIGNING_KEY", default="" if PRODUCTION else DEV_JWT_SIGNING_KEY
    )
HARDENING_FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS", default=[] if PRODUCTION else [DEV_FIELD_ENCRYPTION_KEY]
)
# The server-side key API keys are stored under (HMAC-SHA-256, docs/apikeys.md); required in
# production (hardening.E801), derived from SECRET_KEY in development when unset.
HARDENING_API_KEY_HASH_KEY = env.str("API_KEY_HASH_KEY", default="")
# Who must use MFA (docs/mfa.md): staff in production; "off", "staff" or "all".
HARDENING_MFA_REQUIRED = env.str("MFA_REQUIRED", default="staff" if PRODUCTION else "off")
HARDENING_MFA_ISSUER = env.str("MFA_ISSUER", default="django-hardening example")
# Passkeys (docs/passkeys.md): the WebAuthn relying-party id is the site's domain; by default
# the first ALLOWED_HOSTS entry that is a domain name ("" when none: passkeys off). In
# development an unset RP id follows the page's host (http://localhost:8000 works).


def _domain(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return bool(host) and "*" not in host
    return False


_DOMAINS = [h.lstrip(".") for h in ALLOWED_HOSTS if _domain(h.lstrip("."))]
if PRODUCTION or env.has("WEBAUTHN_RP_ID"):
    HARDENING_WEBAUTHN_RP_ID = env.str("WEBAUTHN_RP_ID", default=_DOMAINS[0] if _DOMAINS else "")
HARDENING_WEBAUTHN_ORIGINS = env.list("WEBAUTHN_ORIGINS", default=[])
# "Trust this browser" on the MFA step, in days (0: off; never offered to staff).
HARDENING_MFA_TRUSTED_DEVICE_DAYS = env.int("MFA_TRUSTED_DEVICE_DAYS", default=30)
# The session login with the MFA step (hardening.mfa.signin); /account/mfa/ sends anonymous
# users there (hardening.E220 when LOGIN_URL does not resolve).
LOGIN_URL = "hardening:login"

# -- rate limits (docs/ratelimit.md) -----------------------------------------------------

HARDENING_RATELIMIT_POLICIES = [
    {"name": "user", "key": "user", "rates": [env.str("RATE_LIMIT_USER", default="100/m")]},
    {"name": "ip", "key": "anon", "rates": [env.str("RATE_LIMIT_IP", default="60/m")]},
    {"name": "global", "key": "global", "rates": [env.str("RATE_LIMIT_GLOBAL", default="10000/m")]},
    # Each API key counts on its own (key:<public id>), besides its owner's "user" limit.
    {
        "name": "api_key",
        "key": "api_key",
        "rates": [env.str("RATE_LIMIT_API_KEY", default="600/m")],
    },
    {
        "name": "auth",
        "key": "ip",
        "rates": [env.str("RATE_LIMIT_AUTH", default="10/m")],
        "paths": [
            "/api/auth/token",  # also /api/auth/token/refresh
            "/api/auth/logout",
            "/api/auth/mfa",
            "/api/auth/passkey",
            "/api/auth/password",
            "/admin/login/",
            "/account/login/",
        ],
        "methods": ["POST"],  # count login attempts, not page loads
        "fail_open": False,
    },
    {
        # Passwordless passkey login has its own budget (the auth policy covers it too).
        "name": "passkey",
        "key": "ip",
        "rates": [env.str("RATE_LIMIT_PASSKEY", default="20/m")],
        "paths": ["/api/auth/passkey"],
        "methods": ["POST"],
        "fail_open": False,
    },
]
HARDENING_RATELIMIT_HEADERS = env.bool("RATE_LIMIT_HEADERS", default=False)
HARDENING_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
HARDENING_TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# -- request timeouts (docs/timeouts.md) ----------------------------------------------

# Seconds per request (0 disables); keep it below the server's and the proxy's timeouts.
HARDENING_REQUEST_TIMEOUT = env.float("REQUEST_TIMEOUT", default=30.0)
# /api/slow and /api/slow-db (docs/example.md): "off" in production, staff-only when enabled.
if env.has("DEMO_ENDPOINTS"):
    DEMO_ENDPOINTS = env.str("DEMO_ENDPOINTS")  # "off", "staff" or "open"

# -- health probes (docs/health.md): /health/live, /health/ready ---------------------------

HARDENING_HEALTH_TOKEN = env.str("HEALTH_TOKEN", default="")
HARDENING_HEALTH_TIMEOUT = env.float("HEALTH_TIMEOUT", default=2.0)
# Readiness means "this instance can serve": Redis down (rate limits fail open/closed) and
# stale JWKS keys are "degraded" (200); the database is 503. Name checks that must be 503.
HARDENING_HEALTH_CRITICAL = env.list("HEALTH_CRITICAL", default=[])

# -- token verification (docs/jwt.md) ----------------------------------------------------

# Other issuers whose tokens the API accepts: one entry each (with a shared cache, Redis,
# workers share fetched JWKS documents).
HARDENING_JWT_ISSUERS: list[dict[str, Any]] = []
if env.has("CLERK_ISSUER") or env.has("CLERK_JWKS_URL") or env.has("CLERK_JWT_KEY"):
    HARDENING_JWT_ISSUERS.append(
        {
            "preset": "clerk",
            "issuer": env.str("CLERK_ISSUER", default=""),
            "jwks_url": env.str("CLERK_JWKS_URL", default=""),
            "public_key": env.str("CLERK_JWT_KEY", default=""),
            "authorized_parties": env.list("CLERK_AUTHORIZED_PARTIES", default=[]),
            "secret_key": env.str("CLERK_SECRET_KEY", default=""),
            "publishable_key": env.str("CLERK_PUBLISHABLE_KEY", default=""),
            # Clerk machine tokens (M2M JWTs; ak_/oat_/m2m_ through the Backend API with the
            # secret key): on when the secret key is set (docs/jwt.md).
            "machine_tokens": env.bool("CLERK_MACHINE_TOKENS", default=env.has("CLERK_SECRET_KEY")),
        }
    )
if env.has("OIDC_ISSUER") or env.has("OIDC_JWKS_URL"):
    HARDENING_JWT_ISSUERS.append(
        {
            "issuer": env.str("OIDC_ISSUER", default=""),
            "jwks_url": env.str("OIDC_JWKS_URL", default=""),
            "audience": env.str("OIDC_AUDIENCE", default=""),
        }
    )

# -- Django REST framework --------------------------------------------------------------

# Bearer first (401 + WWW-Authenticate: Bearer; no CSRF on bearer POSTs), then sessions;
# IsAuthenticated + MFAPolicy; JSON only; the {"error", "detail", "request_id"} shape.
REST_FRAMEWORK = rest_framework_settings(**openapi.rest_framework_schema())
SPECTACULAR_SETTINGS = openapi.spectacular_settings(TITLE="django-hardening example API")

# -- observability and security headers (docs/observability.md, docs/headers.md) -----

LOGGING = logging_config(level=env.str("LOG_LEVEL", default="INFO"))
HARDENING_METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
SECURE_CSP = dict(DEFAULT_CSP)
# A CSRF failure answers JSON on API paths and a CSP-clean page in browsers.
CSRF_FAILURE_VIEW = "hardening.errors.csrf_failure"
init_sentry(
    env.str("SENTRY_DSN", default=""),
    environment=HARDENING_ENVIRONMENT,
    release=env.str("SENTRY_RELEASE", default=None),
)
