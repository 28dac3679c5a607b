"""Everything a settings file calls: :class:`Env` (strict environment reading on top of
django-environ), :func:`security_settings`, :func:`rest_framework_settings`,
:func:`logging_config`, :func:`init_sentry`, ``DEFAULT_CSP`` with the CSP source keywords
``SELF``, ``NONE`` and ``NONCE``, and :func:`asgi_server_running`.  Importing this module
needs no configured Django settings.

Why not ``environ.Env`` directly?  Three of its defaults are unsafe for secrets:

* a value that starts with ``$`` is treated as a reference to another variable, so a
  generated secret such as ``$9kq...`` silently becomes the value of an unrelated variable;
* ``bool`` casting maps anything it does not recognise to ``False`` (``DEBUG=ture`` is off,
  ``SESSION_COOKIE_SECURE=yes please`` is off);
* ``*_FILE`` secrets keep the trailing newline every editor and ``kubectl create secret``
  adds.

:class:`Env` reads raw values through django-environ's :class:`~environ.FileAwareMapping`
(``NAME_FILE`` wins over ``NAME``) and uses django-environ's URL parsers for databases and
caches, but does its own strict casting.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from typing import Any, Final

import environ
from django.core.exceptions import ImproperlyConfigured

from hardening.conf.parse import ENVIRONMENTS, environment_name

__all__ = [
    "DEFAULT_CSP",
    "ENVIRONMENTS",
    "NONCE",
    "NONE",
    "POSTGRES_FAIL_FAST",
    "SELF",
    "Env",
    "asgi_server_running",
    "environment_name",
    "init_sentry",
    "logging_config",
    "rest_framework_settings",
    "security_settings",
]

_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


#: libpq options that make a dead or hung database fail fast instead of blocking a
#: thread for the kernel's defaults (minutes to hours); see docs/timeouts.md.
POSTGRES_FAIL_FAST: dict[str, int] = {
    "connect_timeout": 5,  # seconds for the whole connection set-up
    "keepalives": 1,
    "keepalives_idle": 30,  # seconds of silence before the first TCP keepalive probe
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 30000,  # ms that sent data may stay unacknowledged
}


class _Missing:
    def __repr__(self) -> str:
        return "<required>"


REQUIRED: Final = _Missing()

# Env has methods named str/bool/int/list: refer to the builtins through aliases inside it.
_Str = str
_Bool = bool


class Env:
    """Strict environment reader.

    >>> env = Env({"DEBUG": "true", "HOSTS": " a.example , b.example ,", "KEY": "$abc"})
    >>> env.bool("DEBUG")
    True
    >>> env.list("HOSTS")
    ['a.example', 'b.example']
    >>> env.str("KEY")
    '$abc'
    """

    def __init__(self, environ_: Mapping[_Str, _Str] | None = None) -> None:
        source: MutableMapping[_Str, _Str]
        source = os.environ if environ_ is None else dict(environ_)
        # FileAwareMapping gives NAME_FILE precedence over NAME.  Its cache is off so a
        # rotated secret file is re-read by a new process and by tests.
        self._mapping = environ.FileAwareMapping(env=source, cache=False)

    # -- raw access -----------------------------------------------------------------

    def raw(self, name: _Str) -> _Str | None:
        """Return the raw value of ``name`` (or the content of ``name_FILE``), or None."""
        try:
            value: _Str = self._mapping[name]
        except KeyError:
            return None
        except OSError as exc:
            raise ImproperlyConfigured(
                f"{name}_FILE points to a file that cannot be read: {exc.strerror}."
            ) from None
        if self._mapping.env.get(name + "_FILE"):
            # Secrets mounted from files nearly always end with a newline.
            value = value.rstrip("\r\n")
        return value

    def has(self, name: _Str) -> _Bool:
        """True when ``name`` or ``name_FILE`` is set to a non-empty value."""
        value = self.raw(name)
        return value is not None and value != ""

    def _get(self, name: _Str, default: Any) -> _Str | Any:
        value = self.raw(name)
        if value is None or value == "":
            if default is REQUIRED:
                raise ImproperlyConfigured(
                    f"Set the {name} environment variable (or {name}_FILE to a file holding it)."
                )
            return default
        return value

    # -- typed readers --------------------------------------------------------------

    def str(self, name: _Str, default: Any = REQUIRED) -> Any:
        """A string, verbatim: no ``$`` interpolation, no stripping of inner whitespace."""
        value = self._get(name, default)
        if isinstance(value, _Str) and self._mapping.env.get(name + "_FILE") is None:
            return value.strip()
        return value

    def bool(self, name: _Str, default: Any = REQUIRED) -> Any:
        """A boolean: ``1/true/yes/on`` or ``0/false/no/off`` (any case); anything else fails."""
        value = self._get(name, default)
        if not isinstance(value, _Str):
            return value
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(
            f"{name} must be a boolean (true/false, yes/no, on/off, 1/0), got {value!r}."
        )

    def int(self, name: _Str, default: Any = REQUIRED) -> Any:
        value = self._get(name, default)
        if not isinstance(value, _Str):
            return value
        try:
            return int(value.strip())
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}.") from None

    def float(self, name: _Str, default: Any = REQUIRED) -> Any:
        value = self._get(name, default)
        if not isinstance(value, _Str):
            return value
        try:
            return float(value.strip())
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a number, got {value!r}.") from None

    def list(self, name: _Str, default: Any = REQUIRED) -> Any:
        """A comma-separated list; items are stripped and empty items dropped."""
        value = self._get(name, default)
        if not isinstance(value, _Str):
            return value
        return [item.strip() for item in value.split(",") if item.strip()]

    def db(self, name: _Str = "DATABASE_URL", default: Any = REQUIRED) -> Any:
        """A ``DATABASES`` entry from a URL (django-environ's parser).  PostgreSQL
        entries get :data:`POSTGRES_FAIL_FAST` connection options unless the URL sets
        them (``?connect_timeout=10``)."""
        value = self._get(name, default)
        if not isinstance(value, _Str):
            return value
        scheme = value.split(":", 1)[0].lower()
        if scheme not in environ.Env.DB_SCHEMES:
            raise ImproperlyConfigured(
                f"{name} has an unsupported scheme {scheme!r}; use one of "
                "postgres, postgresql, mysql, sqlite."
            )
        try:
            config: dict[str, Any] = environ.Env.db_url_config(value)
        except Exception:  # noqa: BLE001 - never echo the URL: it may hold a password
            raise ImproperlyConfigured(f"{name} is not a valid database URL.") from None
        if str(config.get("ENGINE", "")).endswith("postgresql"):
            options = config.setdefault("OPTIONS", {})
            for key, default_value in POSTGRES_FAIL_FAST.items():
                options.setdefault(key, default_value)  # the URL's query string wins
        return config

    def cache(self, name: _Str = "CACHE_URL", default: Any = REQUIRED) -> Any:
        """A ``CACHES`` entry from a URL (django-environ's parser)."""
        value = self._get(name, default)
        if not isinstance(value, _Str):
            return value
        scheme = value.split(":", 1)[0].lower()
        if scheme == "rediscluster":
            return _cluster_cache(name, value)
        if scheme == "locmem":  # django-environ spells it locmemcache
            value, scheme = "locmemcache" + value[len(scheme) :], "locmemcache"
        if scheme not in environ.Env.CACHE_SCHEMES:
            raise ImproperlyConfigured(
                f"{name} has an unsupported scheme {scheme!r}; use redis, rediss, "
                "rediscluster or locmem."
            )
        try:
            return environ.Env.cache_url_config(value)
        except Exception:  # noqa: BLE001 - never echo the URL: it may hold a password
            raise ImproperlyConfigured(f"{name} is not a valid cache URL.") from None

    def environment(self, name: _Str = "DJANGO_ENV", default: _Str = "production") -> _Str:
        """The deployment environment: ``production``, ``development`` or ``test``.

        Feed it to ``HARDENING_ENVIRONMENT``.  Fail safe: unset or empty means
        ``production`` (strict checks, HTTPS, no development keys); development needs an
        explicit ``DJANGO_ENV=development``.  Common spellings (``prod``, ``dev``) are
        accepted; anything else is an error rather than a silent fallback.
        """
        value = self._get(name, default)
        normalized = environment_name(str(value), default)
        if normalized not in ENVIRONMENTS:
            raise ImproperlyConfigured(
                f"{name} must be one of {', '.join(ENVIRONMENTS)}, got {value!r}."
            )
        return normalized


def security_settings(
    environment: str,
    *,
    behind_proxy: bool = False,
    hsts_seconds: int = 63_072_000,
    hsts_preload: bool = False,
    ssl_host: str | None = None,
) -> dict[str, Any]:
    """Django security settings for ``environment``, to merge into a settings module::

        from hardening.env import Env, security_settings

        env = Env()
        HARDENING_ENVIRONMENT = env.environment()
        globals().update(security_settings(HARDENING_ENVIRONMENT, behind_proxy=True))

    In production: HTTPS only (SSL redirect, two-year HSTS with subdomains), secure and
    HttpOnly cookies, ``SameSite=Lax``, ``X-Frame-Options: DENY``, a strict referrer
    policy and ``Cross-Origin-Opener-Policy: same-origin``.  ``behind_proxy=True`` trusts
    ``X-Forwarded-Proto: https`` from the reverse proxy in front of the app (only set it
    when a proxy you control overwrites that header).  In development and test the same
    headers are sent but nothing forces HTTPS, so ``runserver`` keeps working over HTTP.
    """
    if environment not in ENVIRONMENTS:
        raise ImproperlyConfigured(
            f"environment must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}."
        )
    production = environment == "production"
    values: dict[str, Any] = {
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "strict-origin-when-cross-origin",
        "SECURE_CROSS_ORIGIN_OPENER_POLICY": "same-origin",
        "X_FRAME_OPTIONS": "DENY",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "CSRF_COOKIE_SECURE": production,
        "SECURE_SSL_REDIRECT": production,
        "SECURE_HSTS_SECONDS": hsts_seconds if production else 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": production,
        "SECURE_HSTS_PRELOAD": production and hsts_preload,
        "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https") if behind_proxy else None,
        "SECURE_REDIRECT_EXEMPT": [r"^health/"],
        "USE_X_FORWARDED_HOST": False,
    }
    if production:
        values["SESSION_COOKIE_NAME"] = "__Host-sessionid"
        values["CSRF_COOKIE_NAME"] = "__Host-csrftoken"
    if ssl_host:
        values["SECURE_SSL_HOST"] = ssl_host
    return values


# The settings-file helpers of other rooms, re-exported so a settings file needs one import
# (at the end: they import nothing that needs configured settings).
from hardening.drf import rest_framework_settings  # noqa: E402
from hardening.headers.csp import DEFAULT_CSP, NONCE, NONE, SELF  # noqa: E402
from hardening.observability.logging import logging_config  # noqa: E402
from hardening.observability.sentry import init_sentry  # noqa: E402
from hardening.servers import asgi_server_running  # noqa: E402


def _cluster_cache(name: str, value: str) -> dict[str, Any]:
    """``rediscluster://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT…][?key_prefix=…]``: any nodes of
    a Redis Cluster, for :class:`hardening.cache.RedisClusterCache`."""
    from urllib.parse import parse_qs, unquote, urlsplit

    try:
        parts = urlsplit(value)
        netloc = parts.netloc
        username = password = None
        if "@" in netloc:
            credentials, netloc = netloc.rsplit("@", 1)
            user, _, secret = credentials.rpartition(":")
            username, password = unquote(user), unquote(secret)
        nodes = []
        for node in netloc.split(","):
            host, _, port = node.strip().rpartition(":")
            number = int(port)
            if not 0 < number < 65536:
                raise ValueError("port")
            nodes.append(f"redis://{host or '127.0.0.1'}:{number}")
        query = parse_qs(parts.query)
    except ValueError:  # never echo the URL: it may hold a password
        raise ImproperlyConfigured(f"{name} is not a valid cache URL.") from None
    if parts.path not in ("", "/", "/0"):
        raise ImproperlyConfigured(f"{name}: a Redis Cluster has database 0 only.")
    config: dict[str, Any] = {"BACKEND": "hardening.cache.RedisClusterCache", "LOCATION": nodes}
    if "key_prefix" in query:
        config["KEY_PREFIX"] = query["key_prefix"][0]
    options = {"username": username, "password": password}
    if any(options.values()):
        config["OPTIONS"] = {key: value for key, value in options.items() if value}
    return config
