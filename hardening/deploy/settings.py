"""Checks for unsafe deployment settings (``E007``–``E039``).

These are Django's ``check --deploy`` warnings that matter, promoted to errors on a plain
``manage.py check`` in production (Django never runs deploy checks by itself).  The headers
of ``SecurityMiddleware`` (``E019``–``E021``) are checked with the other security headers,
in :mod:`hardening.headers.checks`.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error

from hardening.checks import problem, register, warning
from hardening.conf import Reader, conf, configured
from hardening.conf.parse import ENVIRONMENTS

ONE_YEAR = 31_536_000


@register
def check_environment(**kwargs: Any) -> list[CheckMessage]:
    value = getattr(settings, "HARDENING_ENVIRONMENT", "production")
    if value not in ENVIRONMENTS:
        return [
            Error(
                f"HARDENING_ENVIRONMENT is {value!r}; it is treated as production.",
                hint=f"Use one of {', '.join(ENVIRONMENTS)} (hardening.env reads DJANGO_ENV).",
                id="hardening.E022",
            )
        ]
    return []


@register
def check_debug_and_hosts(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if settings.DEBUG:
        messages.append(
            problem(
                "E007",
                "DEBUG is on.",
                "DEBUG leaks settings, SQL and stack traces; set DEBUG = False in production.",
            )
        )
    hosts = list(settings.ALLOWED_HOSTS)
    if not hosts:
        messages.append(
            problem(
                "E008",
                "ALLOWED_HOSTS is empty.",
                "List the host names this site serves, e.g. ALLOWED_HOSTS=api.example.com.",
            )
        )
    elif "*" in hosts:
        messages.append(
            problem(
                "E009",
                "ALLOWED_HOSTS contains '*': any Host header is accepted.",
                "List the host names explicitly to stop Host-header poisoning.",
            )
        )
    return messages


@register
def check_cookies(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if not settings.SESSION_COOKIE_SECURE:
        messages.append(
            problem(
                "E010",
                "SESSION_COOKIE_SECURE is off: the session cookie can travel over HTTP.",
                "Set SESSION_COOKIE_SECURE = True (hardening.env.security_settings does).",
            )
        )
    if not settings.CSRF_COOKIE_SECURE:
        messages.append(
            problem(
                "E011",
                "CSRF_COOKIE_SECURE is off: the CSRF cookie can travel over HTTP.",
                "Set CSRF_COOKIE_SECURE = True (hardening.env.security_settings does).",
            )
        )
    if not settings.SESSION_COOKIE_HTTPONLY:
        messages.append(
            problem(
                "E012",
                "SESSION_COOKIE_HTTPONLY is off: scripts can read the session cookie.",
                "Set SESSION_COOKIE_HTTPONLY = True.",
            )
        )
    return messages


@register
def check_https(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    hsts = settings.SECURE_HSTS_SECONDS or 0
    if hsts <= 0:
        messages.append(
            problem(
                "E013",
                "HSTS is off (SECURE_HSTS_SECONDS is 0).",
                "Set SECURE_HSTS_SECONDS to at least 31536000 once the site is HTTPS-only.",
            )
        )
    elif conf.is_production and hsts < ONE_YEAR:
        messages.append(
            warning(
                "W001",
                f"SECURE_HSTS_SECONDS is {hsts}, shorter than one year.",
                "Browsers and graders expect at least 31536000 seconds.",
            )
        )
    if not settings.SECURE_SSL_REDIRECT and not settings.SECURE_PROXY_SSL_HEADER:
        messages.append(
            problem(
                "E014",
                "SECURE_SSL_REDIRECT is off and no trusted proxy header is set.",
                "Set SECURE_SSL_REDIRECT = True, or SECURE_PROXY_SSL_HEADER when a proxy "
                "you control terminates TLS and redirects HTTP itself.",
            )
        )
    return messages


@register
def check_middleware(**kwargs: Any) -> list[CheckMessage]:
    middleware = list(settings.MIDDLEWARE)
    messages: list[CheckMessage] = []
    if "django.middleware.security.SecurityMiddleware" not in middleware:
        messages.append(
            problem(
                "E016",
                "django.middleware.security.SecurityMiddleware is not in MIDDLEWARE.",
                "Add it near the top of MIDDLEWARE: it sends HSTS and redirects to HTTPS.",
            )
        )
    if (
        "django.middleware.clickjacking.XFrameOptionsMiddleware" not in middleware
        or getattr(settings, "X_FRAME_OPTIONS", "DENY") != "DENY"
    ):
        messages.append(
            problem(
                "E017",
                "Clickjacking protection is not X-Frame-Options: DENY.",
                "Add XFrameOptionsMiddleware to MIDDLEWARE and set X_FRAME_OPTIONS = 'DENY'.",
            )
        )
    if "django.middleware.csrf.CsrfViewMiddleware" not in middleware:
        messages.append(
            problem(
                "E018",
                "django.middleware.csrf.CsrfViewMiddleware is not in MIDDLEWARE.",
                "Add it: session-authenticated forms and APIs need CSRF protection.",
            )
        )
    return messages


_ALLOW_ALL_REGEXES = {".*", "^.*$", "^.*", ".*$", ".+", "^.+$", "^(.*)$", "(.*)"}


@register
def check_cors(**kwargs: Any) -> list[CheckMessage]:
    if not apps.is_installed("corsheaders"):
        return []
    allow_all = getattr(settings, "CORS_ALLOW_ALL_ORIGINS", None)
    if allow_all is None:
        allow_all = getattr(settings, "CORS_ORIGIN_ALLOW_ALL", False)
    regexes = set(getattr(settings, "CORS_ALLOWED_ORIGIN_REGEXES", []) or [])
    if allow_all or regexes & _ALLOW_ALL_REGEXES:
        return [
            problem(
                "E015",
                "django-cors-headers allows every origin.",
                "List trusted origins in CORS_ALLOWED_ORIGINS instead of allowing all.",
            )
        ]
    return []


@register
def check_removed_settings(**kwargs: Any) -> list[CheckMessage]:
    """A ``HARDENING_*`` setting that no longer exists is never silently ignored."""
    messages: list[CheckMessage] = []
    for reader in Reader.readers:
        for name, instead in vars(reader).get("removed", {}).items():
            if configured(name):
                messages.append(
                    problem(
                        "E032",
                        f"{name} was removed and is ignored.",
                        f"Use {instead} instead (CHANGELOG.md lists every renamed setting).",
                    )
                )
    return messages
