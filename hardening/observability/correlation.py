"""The request ID beyond the request: Celery tasks, outgoing HTTP calls, OpenTelemetry
spans, and Sentry events linked to the trace.  Every integration is optional: without
Celery or OpenTelemetry installed nothing here imports them.

* **Celery** (extra ``celery``): :func:`connect_celery` (``HardeningConfig.ready`` calls it
  when Celery is installed) adds the current request ID to every published task's headers
  (:data:`TASK_HEADER`, ``before_task_publish``) and restores it in the worker around the
  task (``task_prerun`` / ``task_postrun``), so the worker's JSON log lines carry the request
  ID of the request that queued the task.  A task queued outside a request gets none.
* **Outgoing HTTP**: :func:`outgoing_headers` is what hardening's own HTTP calls send (the
  JWKS and OIDC discovery fetches): ``X-Request-ID`` and, with OpenTelemetry, the W3C
  ``traceparent``; use it for your own calls (``requests.get(url, headers=outgoing_headers())``).
* **OpenTelemetry** (extra ``otel``): :func:`trace_ids` gives the current span's
  ``trace_id`` / ``span_id`` (hex), which :class:`~hardening.observability.logging.JsonFormatter`
  adds to every line; :func:`tag_span` puts the request ID on the request's span
  (attribute :data:`SPAN_ATTRIBUTE`; ``RequestMiddleware`` calls it).
* **Sentry**: :func:`link_sentry_event` (in ``before_send``) sets the event's trace context to
  the OpenTelemetry trace, so the event links to the trace in Sentry.
"""

from __future__ import annotations

import functools
from typing import Any

from hardening.context import current_request_id, request_id_var
from hardening.extras import installed

TASK_HEADER = "hardening_request_id"
SPAN_ATTRIBUTE = "http.request.header.x_request_id"
HEADER = "X-Request-ID"


@functools.cache
def _otel() -> Any:
    """``opentelemetry.trace``, or None when OpenTelemetry is not installed."""
    if not installed("opentelemetry"):
        return None
    from opentelemetry import trace

    return trace


def trace_ids() -> dict[str, str]:
    """``{"trace_id", "span_id"}`` of the current OpenTelemetry span ({} without one)."""
    trace = _otel()
    if trace is None:
        return {}
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}


def tag_span(request_id: str) -> None:
    """Put the request ID on the current span (the server span of the request)."""
    trace = _otel()
    if trace is None:
        return
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute(SPAN_ATTRIBUTE, request_id)


def outgoing_headers() -> dict[str, str]:
    """Headers that carry the correlation to another service."""
    headers: dict[str, str] = {}
    request_id = current_request_id()
    if request_id:
        headers[HEADER] = request_id
    ids = trace_ids()
    if ids:
        headers["traceparent"] = f"00-{ids['trace_id']}-{ids['span_id']}-01"
    return headers


def link_sentry_event(event: dict[str, Any]) -> dict[str, Any]:
    """Point the event's trace context at the current OpenTelemetry span."""
    ids = trace_ids()
    if ids:
        contexts = event.setdefault("contexts", {})
        if isinstance(contexts, dict):
            trace = contexts.setdefault("trace", {})
            if isinstance(trace, dict):
                trace.update(ids)
    return event


# -- Celery ------------------------------------------------------------------------------


def _publish(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    request_id = current_request_id()
    if request_id and headers is not None and TASK_HEADER not in headers:
        headers[TASK_HEADER] = request_id


def _task_request_id(task: Any) -> str | None:
    request = getattr(task, "request", None)
    value = getattr(request, TASK_HEADER, None)
    if value is None:  # protocol 1 / eager: custom headers land in request.headers
        value = (getattr(request, "headers", None) or {}).get(TASK_HEADER)
    return str(value)[:200] if value else None


_TOKENS: dict[str, Any] = {}


def _prerun(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    request_id = _task_request_id(task)
    if request_id and task_id:
        _TOKENS[task_id] = request_id_var.set(request_id)


def _postrun(task_id: str | None = None, **kwargs: Any) -> None:
    token = _TOKENS.pop(task_id or "", None)
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # another context: clear instead
            request_id_var.set(None)


def connect_celery() -> bool:
    """Connect the Celery signal receivers (idempotent); False without Celery."""
    if not installed("celery"):
        return False
    from celery import signals

    signals.before_task_publish.connect(_publish, weak=False, dispatch_uid="hardening-publish")
    signals.task_prerun.connect(_prerun, weak=False, dispatch_uid="hardening-prerun")
    signals.task_postrun.connect(_postrun, weak=False, dispatch_uid="hardening-postrun")
    return True
