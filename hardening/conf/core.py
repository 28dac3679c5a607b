"""Settings every room reads: the environment, which paths are the API, the shared cache,
the client address behind proxies and the field-encryption keys."""

from __future__ import annotations

import functools
import re
from typing import Any

from django.conf import settings

from hardening.conf import parse
from hardening.conf.base import Reader, setting
from hardening.conf.parse import ENVIRONMENTS

#: Cache backends that keep their data in one process (or nowhere): N workers count N times,
#: and nothing written there reaches another worker.  Matched by class name, so a subclass
#: of one of them is one too.
PER_PROCESS_CACHES = frozenset(
    {
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
        "django.core.cache.backends.filebased.FileBasedCache",
    }
)
_PER_PROCESS_NAMES = frozenset(path.rsplit(".", 1)[-1] for path in PER_PROCESS_CACHES)


def per_process(alias: str) -> bool:
    """True when the cache ``alias`` of ``CACHES`` is not shared between processes (False for
    an alias that is not in ``CACHES``: ``hardening.E060`` reports that)."""
    cache = (getattr(settings, "CACHES", None) or {}).get(alias)
    if not cache:
        return False
    return str(cache.get("BACKEND", "")).rsplit(".", 1)[-1] in _PER_PROCESS_NAMES


def _encryption_keys(value: Any) -> list[str]:
    return [key for key in parse.strings(value) if key]


def _proxy_count(value: Any) -> int:
    return parse.non_negative_int(value)


class CoreSettings(Reader):
    removed = {
        "HARDENING_RATELIMIT_TRUSTED_PROXY_COUNT": "HARDENING_TRUSTED_PROXY_COUNT",
        "HARDENING_RATELIMIT_TRUSTED_PROXIES": "HARDENING_TRUSTED_PROXIES",
        "HARDENING_RATELIMIT_CLIENT_IP_HEADER": "HARDENING_CLIENT_IP_HEADER",
    }

    HARDENING_ENVIRONMENT = setting(
        "production",
        parse.string,
        "``production`` (the default: secure unless told otherwise), ``development``, ``test``.",
    )
    HARDENING_FAIL_FAST = setting(
        True,
        parse.boolean,
        "Run the Error-level checks when ``hardening.wsgi`` / ``hardening.asgi`` load.",
    )
    HARDENING_WEAK_SECRET_KEYS = setting(
        list[str](),
        parse.strings,
        "Extra values that must never be used as a secret (your own leaked examples).",
    )
    HARDENING_API_PATHS = setting(
        ["/api/"],
        parse.path_prefixes,
        "Path prefixes of the JSON API: bearer tokens and API keys authenticate there, errors "
        "are JSON, responses are ``no-store`` and carry the API's Content-Security-Policy.",
    )
    HARDENING_CACHE = setting(
        "default",
        parse.string,
        "Alias in ``CACHES`` of the shared cache: rate-limit counters and bans, lockout and "
        "MFA counters, revoked tokens, and fetched JWKS documents when it is not per-process.",
    )
    HARDENING_TRUSTED_PROXY_COUNT = setting(
        0,
        _proxy_count,
        "Reverse proxies in front of the app that append to the client-IP header (0: use "
        "``REMOTE_ADDR``).",
    )
    HARDENING_TRUSTED_PROXIES = setting(
        list[str](),
        parse.strings,  # entries that are not networks are skipped and reported (E302)
        "Networks of those proxies; the header is only believed from them (empty: any peer).",
    )
    HARDENING_CLIENT_IP_HEADER = setting(
        "X-Forwarded-For",
        parse.string,
        "The header the proxies write: ``X-Forwarded-For`` or ``Forwarded`` (RFC 7239).",
    )
    HARDENING_FIELD_ENCRYPTION_KEYS = setting(
        list[str](),
        _encryption_keys,
        "Fernet keys (urlsafe base64 of 32 bytes); the first encrypts, all decrypt.",
    )

    @property
    def is_production(self) -> bool:
        # An unknown value is reported by hardening.E022 and treated as production.
        return self.HARDENING_ENVIRONMENT not in ENVIRONMENTS[1:]


def api_path(path: str) -> bool:
    """True when ``path`` is under ``HARDENING_API_PATHS`` (a prefix, or a ``^`` regex)."""
    prefixes, regexes = _api_paths(tuple(CoreSettings().HARDENING_API_PATHS))
    return path.startswith(prefixes) or any(regex.match(path) for regex in regexes)


@functools.lru_cache(maxsize=8)
def _api_paths(entries: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[re.Pattern[str], ...]]:
    regexes = []
    for entry in entries:
        if entry.startswith("^"):
            try:
                regexes.append(re.compile(entry))
            except re.error:  # never raises in a request; the core checks report the value
                continue
    return tuple(e for e in entries if not e.startswith("^")), tuple(regexes)


def middleware() -> tuple[str, ...]:
    """``MIDDLEWARE`` with django-hardening's classes under their public names
    (``hardening.middleware.TimeoutMiddleware``), however the project spells them (a room's
    own module path works too); every other entry as written.  Our drop-in for
    django-prometheus's after-middleware is listed under django-prometheus's name, the role
    the checks know it by."""
    from django.conf import settings

    return _public_names(tuple(str(m) for m in getattr(settings, "MIDDLEWARE", None) or ()))


@functools.lru_cache(maxsize=8)
def _public_names(entries: tuple[str, ...]) -> tuple[str, ...]:
    from django.utils.module_loading import import_string

    def public(entry: str) -> str:
        if not entry.startswith("hardening."):
            return entry
        try:
            name = import_string(entry).__name__
        except ImportError:  # Django itself reports a middleware that cannot be imported
            return entry
        if name == "PrometheusAfterMiddleware":
            return "django_prometheus.middleware.PrometheusAfterMiddleware"
        return f"hardening.middleware.{name}"

    return tuple(public(entry) for entry in entries)
