"""System checks of observability (``E6xx`` / ``W6xx``): the request-ID and Prometheus
middleware, the ``/metrics`` gate (its token and ``HARDENING_OPERATOR_IPS``, which the health
probes share) and Sentry.  The security-header checks of the same block (``E608``–``W611``)
are in :mod:`hardening.headers.checks`."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage
from django.urls import Resolver404, resolve

from hardening.access import check_allow_list, token_checks
from hardening.checks import problem, register, warning
from hardening.conf.core import middleware as installed_middleware
from hardening.observability.conf import conf

REQUEST_ID = "hardening.middleware.RequestMiddleware"
PROM_BEFORE = "django_prometheus.middleware.PrometheusBeforeMiddleware"
PROM_AFTER = "django_prometheus.middleware.PrometheusAfterMiddleware"


@register
def check_observability_middleware(**kwargs: Any) -> list[CheckMessage]:
    middleware = list(installed_middleware())
    messages: list[CheckMessage] = []
    if REQUEST_ID not in middleware:
        messages.append(
            problem(
                "E602",
                "RequestMiddleware is not in MIDDLEWARE.",
                f"Add {REQUEST_ID!r} first (after PrometheusBeforeMiddleware).",
            )
        )
    from django.conf import settings

    if PROM_AFTER in (getattr(settings, "MIDDLEWARE", None) or ()):  # as written: not ours
        messages.append(
            warning(
                "W616",
                "django-prometheus's PrometheusAfterMiddleware answers 500 to a Content-Length "
                "that is not a number and keeps a latency series per made-up HTTP method.",
                "Use 'hardening.middleware.PrometheusAfterMiddleware' in its place: the same "
                "metrics, a 400 and '<invalid method>' instead (docs/observability.md).",
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
    return messages + token_checks(
        "HARDENING_METRICS_TOKEN", conf.HARDENING_METRICS_TOKEN, "E607", others={}
    )


@register
def check_operator_ips(**kwargs: Any) -> list[CheckMessage]:
    """``HARDENING_OPERATOR_IPS``: unusable (the default applies) or open to everyone."""
    messages: list[CheckMessage] = []
    for name, why in conf.problems():
        if name == "HARDENING_OPERATOR_IPS":
            messages.append(
                problem(
                    "E605",
                    f"HARDENING_OPERATOR_IPS is unusable: {why}"[:200],
                    "List addresses or networks such as '10.0.0.0/8' or '::1'. Until fixed, "
                    "only the default applies (loopback, for an endpoint without a token).",
                )
            )
        else:
            messages.append(problem("E607", f"{name} is unusable: {why}"[:200], _TOKEN_HINT))
    _, everyone = check_allow_list(conf.HARDENING_OPERATOR_IPS or [])
    messages += [
        warning(
            "W606",
            f"HARDENING_OPERATOR_IPS allows every address ({entry}).",
            "List the scraper's and the monitoring's addresses, or use the endpoints' tokens.",
        )
        for entry in everyone
    ]
    return messages


_TOKEN_HINT = "Set it to a string of at least 32 random characters (or leave it unset)."  # noqa: S105 - a hint


@register
def check_sentry(**kwargs: Any) -> list[CheckMessage]:
    try:
        import sentry_sdk
    except ImportError:  # pragma: no cover - optional extra
        return []
    from hardening.observability.sentry import supported_sdk

    if not supported_sdk(sentry_sdk.VERSION):
        return [
            problem(
                "E615",
                f"sentry-sdk {sentry_sdk.VERSION} is not supported (hardening needs 2.x): "
                "events would not be scrubbed.",
                "Install 'django-hardening[sentry]' (sentry-sdk>=2.20,<3).",
            )
        ]
    client = sentry_sdk.get_client()
    if not client.is_active():
        return []
    if client.should_send_default_pii() or client.options.get("send_default_pii"):
        return [
            problem(
                "E612",
                "Sentry sends personal data (send_default_pii / data_collection).",
                "Initialise Sentry with hardening.env.init_sentry(), which "
                "leaves personal data off.",
            )
        ]
    return []
