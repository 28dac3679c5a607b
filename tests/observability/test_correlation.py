"""Correlation (hardening.observability.correlation): the request ID travels into Celery tasks
(a real worker thread on an in-memory broker) and outgoing HTTP calls; with OpenTelemetry the
JSON logs carry trace_id/span_id, the request's span carries the request ID, and Sentry
events link to the trace."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client

from hardening.context import current_request_id, request_id_var
from hardening.observability.correlation import (
    SPAN_ATTRIBUTE,
    TASK_HEADER,
    outgoing_headers,
    trace_ids,
)
from hardening.observability.logging import JsonFormatter, RequestContextFilter


class Lines(logging.Handler):
    """The JSON lines a logger writes, as hardening's LOGGING formats them."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.addFilter(RequestContextFilter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("tests.correlation")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)


# -- Celery: a real worker thread on an in-memory broker -----------------------------------


@pytest.fixture(scope="module")
def celery_app() -> Iterator[Any]:
    celery = pytest.importorskip("celery")
    from celery.contrib.testing.worker import start_worker

    app = celery.Celery("correlation", broker="memory://", backend="cache+memory://")
    app.conf.update(task_always_eager=False, worker_hijack_root_logger=False)

    @app.task(name="tests.correlation.work")  # type: ignore[untyped-decorator]
    def work() -> dict[str, Any]:
        logging.getLogger("tests.correlation").warning("working")
        return {"request_id": current_request_id(), "thread": threading.get_ident()}

    app.work = work
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        yield app


def test_a_task_queued_in_a_request_logs_that_request_id(celery_app: Any, lines: Lines) -> None:
    token = request_id_var.set("req-celery-1")
    try:
        result = celery_app.work.delay()
        assert result.get(timeout=10)["request_id"] == "req-celery-1"
    finally:
        request_id_var.reset(token)
    assert result.get()["thread"] != threading.get_ident()  # another thread: restored, not shared
    worker_lines = [line for line in lines.lines if line["message"] == "working"]
    assert worker_lines[-1]["request_id"] == "req-celery-1"


def test_a_task_queued_outside_a_request_has_none(celery_app: Any) -> None:
    assert celery_app.work.delay().get(timeout=10)["request_id"] is None
    token = request_id_var.set("req-celery-2")  # the worker does not keep the last one
    try:
        celery_app.work.delay().get(timeout=10)
    finally:
        request_id_var.reset(token)
    assert celery_app.work.delay().get(timeout=10)["request_id"] is None


def test_the_header_is_on_the_message(celery_app: Any) -> None:
    from celery import signals

    seen: list[dict[str, Any]] = []

    def spy(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
        seen.append(dict(headers or {}))

    signals.after_task_publish.connect(spy, weak=False)
    token = request_id_var.set("req-celery-3")
    try:
        celery_app.work.delay().get(timeout=10)
    finally:
        request_id_var.reset(token)
        signals.after_task_publish.disconnect(spy)
    assert seen and seen[-1][TASK_HEADER] == "req-celery-3"


# -- outgoing HTTP through hardening's helpers ---------------------------------------------


def test_the_jwks_fetch_sends_the_request_id() -> None:
    from hardening.jwt.fetch import fetch_document

    received: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            received.append(self.headers.get("X-Request-ID"))  # case-insensitive
            body = b'{"keys": []}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    token = request_id_var.set("req-outgoing")
    try:
        fetch_document(f"http://127.0.0.1:{server.server_address[1]}/jwks", 2.0)
    finally:
        request_id_var.reset(token)
        server.shutdown()
        server.server_close()
        thread.join()
    assert received == ["req-outgoing"]
    assert outgoing_headers() == {}  # outside a request (and a span): nothing to carry


# -- OpenTelemetry and Sentry --------------------------------------------------------------


@pytest.fixture(scope="module")
def spans() -> Any:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter


def test_json_logs_carry_the_trace(spans: Any, lines: Lines) -> None:
    from opentelemetry import trace

    with trace.get_tracer("tests").start_as_current_span("work") as span:
        logging.getLogger("tests.correlation").warning("inside")
        context = span.get_span_context()
    logging.getLogger("tests.correlation").warning("outside")
    inside, outside = lines.lines[-2:]
    assert inside["trace_id"] == f"{context.trace_id:032x}"
    assert inside["span_id"] == f"{context.span_id:016x}"
    assert "trace_id" not in outside
    assert trace_ids() == {}


@pytest.mark.django_db
def test_the_request_span_carries_the_request_id(spans: Any) -> None:
    from opentelemetry import trace

    spans.clear()
    with trace.get_tracer("tests").start_as_current_span("GET /api/me"):
        response = Client().get("/api/me", HTTP_X_REQUEST_ID="req-span-1")
    (span,) = spans.get_finished_spans()
    assert response["X-Request-ID"] == "req-span-1"
    assert span.attributes[SPAN_ATTRIBUTE] == "req-span-1"


def test_sentry_events_link_to_the_trace(spans: Any) -> None:
    from opentelemetry import trace

    from hardening.observability.sentry import before_send

    token = request_id_var.set("req-sentry")
    try:
        with trace.get_tracer("tests").start_as_current_span("failing") as span:
            event = before_send({"message": "boom"}, {})
            context = span.get_span_context()
    finally:
        request_id_var.reset(token)
    assert event is not None
    assert event["contexts"]["trace"]["trace_id"] == f"{context.trace_id:032x}"
    assert event["contexts"]["trace"]["span_id"] == f"{context.span_id:016x}"
    assert event["tags"]["request_id"] == "req-sentry"
    headers = {}
    with trace.get_tracer("tests").start_as_current_span("call") as span:
        headers = outgoing_headers()
    assert headers["traceparent"].split("-")[1] == f"{span.get_span_context().trace_id:032x}"


# -- without the extras, in this process (test_optional_extras runs a whole process) -------


@pytest.fixture
def no_otel(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import sys

    from hardening.observability import correlation

    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # find_spec raises ValueError
    correlation._otel.cache_clear()
    yield
    monkeypatch.undo()
    correlation._otel.cache_clear()


def test_without_opentelemetry_only_the_request_id_travels(no_otel: None) -> None:
    from hardening.observability.correlation import link_sentry_event, tag_span

    token = request_id_var.set("req-no-otel")
    try:
        tag_span("req-no-otel")  # nothing to tag, and no error
        assert trace_ids() == {}
        assert outgoing_headers() == {"X-Request-ID": "req-no-otel"}
        assert link_sentry_event({"message": "boom"}) == {"message": "boom"}
    finally:
        request_id_var.reset(token)


def test_without_celery_nothing_is_connected(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from hardening.observability.correlation import connect_celery

    monkeypatch.setitem(sys.modules, "celery", None)
    assert connect_celery() is False


@pytest.mark.parametrize(
    "event",
    [
        {"message": "boom", "contexts": ["not", "a", "dict"]},
        {"message": "boom", "contexts": {"trace": "not a dict"}},
    ],
)
def test_a_sentry_event_with_odd_contexts_is_left_as_it_is(spans: Any, event: Any) -> None:
    import copy

    from opentelemetry import trace

    from hardening.observability.correlation import link_sentry_event

    before = copy.deepcopy(event)
    with trace.get_tracer("tests").start_as_current_span("failing"):
        assert link_sentry_event(event) == before


def test_a_task_finished_in_another_context_clears_the_request_id() -> None:
    """task_postrun may run in a context other than task_prerun's (the token cannot be
    reset there): the worker's request ID is cleared rather than left to the next task."""
    import contextvars
    from types import SimpleNamespace

    from hardening.observability.correlation import _postrun, _prerun

    task = SimpleNamespace(request=SimpleNamespace(headers={TASK_HEADER: "req-task"}))
    prerun_context = contextvars.copy_context()
    prerun_context.run(_prerun, task_id="t-1", task=task)
    assert prerun_context[request_id_var] == "req-task"

    postrun_context = contextvars.copy_context()
    postrun_context.run(request_id_var.set, "req-task")  # as the task left it
    postrun_context.run(_postrun, task_id="t-1")
    assert postrun_context[request_id_var] is None
    postrun_context.run(_postrun, task_id="t-1")  # once only: the token is gone
    assert current_request_id() is None
