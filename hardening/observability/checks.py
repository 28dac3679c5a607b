"""System checks for observability and security headers (``E6xx`` / ``W6xx``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage
from django.urls import Resolver404, resolve

from hardening.access import gate_checks
from hardening.checks import problem, register, warning
from hardening.conf import conf

__all__ = [
    "check_csp",
    "check_metrics_endpoint",
    "check_observability_middleware",
    "check_security_headers_middleware",
    "check_sentry",
]

REQUEST_ID = "hardening.observability.middleware.RequestIDMiddleware"
HEADERS = "hardening.headers.middleware.SecurityHeadersMiddleware"
PROM_BEFORE = "django_prometheus.middleware.PrometheusBeforeMiddleware"
PROM_AFTER = "django_prometheus.middleware.PrometheusAfterMiddleware"
_UNSAFE = ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:")


@register
def check_observability_middleware(**kwargs: Any) -> list[CheckMessage]:
    middleware = list(settings.MIDDLEWARE)
    messages: list[CheckMessage] = []
    if REQUEST_ID not in middleware:
        messages.append(
            problem(
                "E602",
                "RequestIDMiddleware is not in MIDDLEWARE.",
                f"Add {REQUEST_ID!r} first (after PrometheusBeforeMiddleware).",
            )
        )
    before, after = PROM_BEFORE in middleware, PROM_AFTER in middleware
    if before != after:  # the order is hardening.E033's
        messages.append(
            problem(
                "E604",
                "Only one of django-prometheus's two middleware is in MIDDLEWARE.",
                "Add PrometheusBeforeMiddleware first and PrometheusAfterMiddleware last.",
            )
        )
    return messages


def _metrics_view_is_ungated() -> bool:
    try:
        match = resolve("/metrics")
    except Resolver404:
        return False
    except Exception:  # noqa: BLE001 - a broken URLconf is Django's own check
        return False
    func = getattr(match.func, "view_class", match.func)
    return getattr(func, "__module__", "") == "django_prometheus.exports"


@register
def check_metrics_endpoint(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if _metrics_view_is_ungated():
        messages.append(
            problem(
                "E601",
                "/metrics is django-prometheus's view, open to anyone.",
                "Route it to hardening.observability.views.metrics (token or IP allow-list).",
            )
        )
    return messages + gate_checks(
        "METRICS",
        conf.HARDENING_METRICS_ALLOWED_IPS,
        conf.HARDENING_METRICS_TOKEN,
        ids=("E605", "W606", "E607"),
        everyone=(
            "HARDENING_METRICS_ALLOWED_IPS allows every address ({entry}).",
            "List the scraper's addresses, or use HARDENING_METRICS_TOKEN.",
        ),
    )


@register
def check_security_headers_middleware(**kwargs: Any) -> list[CheckMessage]:
    if HEADERS in settings.MIDDLEWARE:
        return []
    return [
        problem(
            "E608",
            "SecurityHeadersMiddleware is not in MIDDLEWARE.",
            f"Add {HEADERS!r} after SecurityMiddleware: it sends CSP, Permissions-Policy and CORP.",
        )
    ]


def _csp_in_use() -> dict[str, Any]:
    # SecurityHeadersMiddleware sends HARDENING_CSP (default SECURE_CSP) itself, or hands
    # it to Django 6's CSP middleware; Django's alone sends SECURE_CSP.
    if HEADERS in settings.MIDDLEWARE:
        return conf.HARDENING_CSP
    return dict(getattr(settings, "SECURE_CSP", None) or {})


@register
def check_csp(**kwargs: Any) -> list[CheckMessage]:
    if HEADERS not in settings.MIDDLEWARE and "django.middleware.csp" not in str(
        settings.MIDDLEWARE
    ):
        return []  # E608 already says it
    policy = _csp_in_use()
    if not policy:
        return [
            problem(
                "E609",
                "No Content-Security-Policy is sent on HTML pages.",
                "Set SECURE_CSP (or HARDENING_CSP); hardening.headers.csp.DEFAULT_CSP is a "
                "strict start.",
            )
        ]
    messages: list[CheckMessage] = []
    risky = sorted(
        {
            str(source)
            for directive in ("default-src", "script-src", "object-src")
            for source in _sources(policy.get(directive))
            if str(source) in _UNSAFE
        }
    )
    if risky:
        messages.append(
            warning(
                "W610",
                f"The Content-Security-Policy allows {', '.join(risky)} for scripts.",
                "Use nonces (hardening.headers.csp.NONCE) instead of unsafe sources.",
            )
        )
    if "frame-ancestors" not in policy:
        messages.append(
            warning(
                "W611",
                "The Content-Security-Policy has no frame-ancestors directive.",
                "Add 'frame-ancestors': [NONE] (or the origins that may frame the site).",
            )
        )
    return messages


def _sources(value: Any) -> list[Any]:
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


@register
def check_sentry(**kwargs: Any) -> list[CheckMessage]:
    try:
        import sentry_sdk
    except ImportError:  # pragma: no cover - optional extra
        return []
    client = sentry_sdk.get_client()
    if not client.is_active():
        return []
    if client.should_send_default_pii() or client.options.get("send_default_pii"):
        return [
            problem(
                "E612",
                "Sentry sends personal data (send_default_pii / data_collection).",
                "Initialise Sentry with hardening.observability.sentry.init_sentry(), which "
                "leaves personal data off.",
            )
        ]
    return []
