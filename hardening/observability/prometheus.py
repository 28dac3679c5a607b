"""django-prometheus's ``PrometheusAfterMiddleware`` with its label look-ups cached.

Per request, django-prometheus's after-middleware asks ``prometheus_client`` for about eight
labelled children (``metric.labels(status=..., view=..., method=...)``); each call validates
the label names, converts every value to ``str``, sorts, and takes the metric's lock before
a dictionary look-up.  That is a third of the middleware's cost (issue 16: the middleware was
the most expensive piece of the stack, 54 µs of 162 µs).  This subclass keeps
django-prometheus's code for everything else and remembers each child the first time it is
asked for, so the metrics, their names, labels and values are django-prometheus's
(``tests/observability/test_prometheus.py`` compares the two sample for sample), with one
difference: the request latency's ``method`` label.  django-prometheus writes the request's
method there as sent, so a client that sends made-up methods (``XYZ1``, ``XYZ2``, ...) adds a
time series per method to every worker's memory and to ``/metrics``; here it is
``<invalid method>`` for anything but the nine HTTP methods, as in django-prometheus's other
metrics.

A request whose ``Content-Length`` is not a number of bytes (``abc``, ``16385,10`` from a
repeated header under ASGI, ``-1``) is refused here with a 400 JSON error
(``bad_content_length``): django-prometheus reads ``int(Content-Length)`` and its
``ValueError`` was a 500 for any client.  Being last in ``MIDDLEWARE``, the refusal passes
every other middleware on its way out (request ID, security headers).

Use it in place of django-prometheus's class, last in ``MIDDLEWARE``::

    "hardening.middleware.PrometheusAfterMiddleware",

The system checks treat it as django-prometheus's after-middleware (order ``hardening.E033``,
the pair ``hardening.E604``).
"""

from __future__ import annotations

from typing import Any, Final

from django.http import HttpRequest
from django_prometheus.middleware import (
    PrometheusAfterMiddleware as _DjangoPrometheusAfterMiddleware,
)

#: Children remembered per middleware instance.  The label values are the ones
#: django-prometheus uses (status, view name, method, transport, charset, template, exception
#: type), so the number of children is bounded by the project's views; past this, a child is
#: looked up through ``labels()`` every time, as django-prometheus does.
MAX_CHILDREN: Final = 4096


class PrometheusAfterMiddleware(_DjangoPrometheusAfterMiddleware):  # type: ignore[misc]
    """Drop-in for ``django_prometheus.middleware.PrometheusAfterMiddleware``: the same
    metrics, each labelled child looked up once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._children: dict[tuple[Any, ...], Any] = {}

    def process_request(self, request: HttpRequest) -> Any:
        length = request.headers.get("content-length")
        if length and not (length.isascii() and length.isdigit()):
            from hardening.errors import reject

            return reject(
                request, 400, "bad_content_length", "Content-Length is not a number of bytes."
            )
        return super().process_request(request)

    def label_metric(self, metric: Any, request: Any, response: Any = None, **labels: Any) -> Any:
        if not labels:
            return metric
        if "method" in labels:  # the latency's is the raw request.method: normalise it too
            labels["method"] = self._method(request)
        key = (metric, *labels.items())
        child = self._children.get(key)
        if child is None:
            child = metric.labels(**labels)
            if len(self._children) < MAX_CHILDREN:
                self._children[key] = child
        return child
