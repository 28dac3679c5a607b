"""``/metrics``: django-prometheus's exporter behind a bearer token or an IP allow-list.

    path("metrics", hardening.observability.views.metrics, name="metrics")

django-prometheus serves ``/metrics`` to anyone (``include("django_prometheus.urls")``);
use this view instead.  Access is granted when

* ``Authorization: Bearer <HARDENING_METRICS_TOKEN>`` matches (constant-time compare), or
* the client address is in ``HARDENING_OPERATOR_IPS`` (addresses or networks; by default
  loopback when no token is set, nobody when one is).  The address is
  ``request.hardening.client_ip`` (see :mod:`hardening.access`): ``X-Forwarded-For`` counts
  only from the proxies ``HARDENING_TRUSTED_PROXY_COUNT`` declares.

Otherwise: 401 with ``WWW-Authenticate: Bearer`` (token configured) or 403, a JSON error,
an audit event and a metric increment.  In gunicorn multiprocess mode
(``PROMETHEUS_MULTIPROC_DIR``) django-prometheus's view aggregates all workers.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from hardening.access import bearer_token, operator_address, token_matches
from hardening.errors import error_response
from hardening.observability.audit import audit
from hardening.observability.conf import conf
from hardening.observability.metrics import AUTH_FAILURES


def _token_ok(request: HttpRequest) -> bool:
    supplied = bearer_token(request)
    return supplied is not None and token_matches(supplied, conf.HARDENING_METRICS_TOKEN)


def metrics_allowed(request: HttpRequest) -> bool:
    return _token_ok(request) or operator_address(request, conf.HARDENING_METRICS_TOKEN)


@csrf_exempt
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return error_response(405, "method_not_allowed", "Use GET.", headers={"Allow": "GET"})
    if not metrics_allowed(request):
        AUTH_FAILURES.labels(reason="metrics_denied").inc()
        audit("metrics.denied", request=request)
        if conf.HARDENING_METRICS_TOKEN:
            return error_response(
                401,
                "not_authenticated",
                "A valid metrics token is required.",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        return error_response(403, "forbidden", "Metrics are not available to this client.")
    from django_prometheus.exports import ExportToDjangoView

    response: HttpResponse = ExportToDjangoView(request)
    return response
