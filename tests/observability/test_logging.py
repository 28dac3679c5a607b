from __future__ import annotations

import io
import json
import logging
import logging.config
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest
from django.test import Client, SimpleTestCase, override_settings

from hardening.context import request_id_var
from hardening.observability.audit import audit, security_event
from hardening.observability.logging import (
    JsonFormatter,
    RequestContextFilter,
    logging_config,
    request_var,
)

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiJ9.SflKxwRJSMeKKF2QT4fwpMeJf36POk6y"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Attach a JSON handler (as configured by logging_config) to the test loggers."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    names = ["tests.observability", "hardening.audit", "django.request"]
    for name in names:
        logging.getLogger(name).addHandler(handler)
    logging.getLogger("tests.observability").setLevel(logging.INFO)
    yield stream
    for name in names:
        logging.getLogger(name).removeHandler(handler)


def records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_record_is_one_json_line_with_request_context(captured: io.StringIO) -> None:
    token = request_id_var.set("log-rid-123456")
    try:
        logging.getLogger("tests.observability").info("hello %s", "world", extra={"n": 3})
    finally:
        request_id_var.reset(token)
    [record] = records(captured)
    assert record["message"] == "hello world"
    assert record["request_id"] == "log-rid-123456"
    assert record["user_id"] is None
    assert record["level"] == "INFO"
    assert record["logger"] == "tests.observability"
    assert record["n"] == 3
    assert str(record["time"]).endswith("+00:00")


def test_secrets_are_scrubbed_from_message_extra_and_traceback(captured: io.StringIO) -> None:
    log = logging.getLogger("tests.observability")
    log.warning(
        "login failed password=hunter2 header Bearer %s token: abcdef123",
        "opaque-credential-123",
        extra={"password": "hunter2", "payload": {"refresh": JWT, "ok": "fine"}, "note": JWT},
    )
    try:
        raise ValueError(f"bad token {JWT}")
    except ValueError:
        log.exception("failed with code=123456")
    out = captured.getvalue()
    for secret in ("hunter2", JWT, "opaque-credential-123", "abcdef123", "123456"):
        assert secret not in out
    first, second = records(captured)
    assert first["password"] == "[Filtered]"
    assert first["payload"] == {"refresh": "[Filtered]", "ok": "fine"}
    assert first["note"] == "[Filtered]"
    assert "ValueError: bad token [Filtered]" in str(second["exc_info"])


def test_audit_event_is_json_with_event_fields_and_signal(captured: io.StringIO) -> None:
    received: list[dict[str, object]] = []

    def receiver(**kwargs: object) -> None:
        received.append(kwargs)

    security_event.connect(receiver)
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = "203.0.113.9"
    token = request_id_var.set("audit-rid-123456")
    try:
        audit("token.rejected", request=request, reason="expired", token=JWT)
    finally:
        request_id_var.reset(token)
        security_event.disconnect(receiver)
    [record] = records(captured)
    assert record["level"] == "WARNING"
    assert record["event"] == "token.rejected"
    assert record["request_id"] == "audit-rid-123456"
    assert record["audit"] == {
        "reason": "expired",
        "token": "[Filtered]",
        "client_ip": "203.0.113.9",
    }
    assert JWT not in captured.getvalue()
    assert received and received[0]["event"] == "token.rejected"
    assert received[0]["request_id"] == "audit-rid-123456"


def test_user_id_comes_from_an_already_authenticated_request(captured: io.StringIO) -> None:
    request = HttpRequest()
    request.user = User(pk=42, username="ann")
    token = request_var.set(request)
    try:
        logging.getLogger("tests.observability").info("as ann")
    finally:
        request_var.reset(token)
    assert records(captured)[0]["user_id"] == "42"


def test_lazy_user_is_never_evaluated_by_logging(captured: io.StringIO) -> None:
    from django.utils.functional import SimpleLazyObject

    def load() -> User:
        raise AssertionError("a log call must not load the user")

    request = HttpRequest()
    request.user = SimpleLazyObject(load)  # type: ignore[assignment]
    token = request_var.set(request)
    try:
        logging.getLogger("tests.observability").info("anonymous so far")
    finally:
        request_var.reset(token)
    assert records(captured)[0]["user_id"] is None


def test_logging_config_is_valid_and_used_by_the_example_settings() -> None:
    config = logging_config(level="DEBUG")
    logging.config.dictConfig(config)  # raises on a bad dict
    try:
        audit_logger = logging.getLogger("hardening.audit")
        [handler] = audit_logger.handlers
        assert isinstance(handler.formatter, JsonFormatter)
        assert any(isinstance(f, RequestContextFilter) for f in handler.filters)
        assert audit_logger.propagate is False
    finally:
        logging.config.dictConfig(settings.LOGGING)
    assert settings.LOGGING["formatters"]["json"]["()"].endswith("JsonFormatter")


@override_settings(ROOT_URLCONF="tests.observability.urls")
class RequestLogTests(SimpleTestCase):
    def test_view_log_lines_and_500_report_carry_the_request_id(self) -> None:
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter())
        handler.addFilter(RequestContextFilter())
        for name in ("tests.observability", "django.request"):
            logging.getLogger(name).addHandler(handler)
        try:
            self.client.get("/test/echo", headers={"X-Request-ID": "view-rid-123456"})
            Client(raise_request_exception=False).get(
                "/test/boom", headers={"X-Request-ID": "boom-rid-123456"}
            )
        finally:
            for name in ("tests.observability", "django.request"):
                logging.getLogger(name).removeHandler(handler)
        lines = records(stream)
        echo = next(r for r in lines if r["logger"] == "tests.observability")
        assert echo["request_id"] == "view-rid-123456"
        assert "hunter2" not in json.dumps(echo)
        error = next(r for r in lines if r["logger"] == "django.request")
        assert error["request_id"] == "boom-rid-123456"
        assert "eyJhbGciOiJIUzI1NiJ9" not in stream.getvalue()
        assert "request" not in error  # the HttpRequest object is never serialised


def test_formatter_keeps_a_record_with_a_bad_format_string_and_its_stack() -> None:
    import json
    import logging

    record = logging.LogRecord("app", logging.ERROR, __file__, 1, "%d rows", ("x",), None)
    record.exc_text = "Traceback: token=abc"
    record.stack_info = "Stack (most recent call last): here"
    data = json.loads(JsonFormatter().format(record))
    assert data["message"] == "%d rows"  # the template, not a lost record
    assert data["exc_info"].startswith("Traceback")
    assert data["stack_info"].startswith("Stack")
    assert data["logger"] == "app" and data["level"] == "ERROR"
