"""Sentry events are captured locally (a custom transport): nothing leaves the machine."""

from __future__ import annotations

import gzip
import http.server
import json
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from django.test import Client, override_settings
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from hardening.context import request_id_var
from hardening.observability.scrub import FILTERED
from hardening.observability.sentry import init_sentry, scrub_event

JWT = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1c2VyXzQyIn0.c2lnbmF0dXJlLXZhbHVl"
SECRETS = (
    JWT,
    "hunter2-password",
    "482913",
    "rc-ABCD-EFGH",
    "sessioncookievalue",
    "csrfcookievalue",
    "opaque-bearer-credential",
)


class CapturingTransport(Transport):
    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.events: list[dict[str, Any]] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        for item in envelope.items:
            if item.type in ("event", "transaction") and item.payload.json is not None:
                self.events.append(item.payload.json)


@pytest.fixture
def transport() -> Iterator[CapturingTransport]:
    capture = CapturingTransport()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # we pass no deprecated option
        assert init_sentry(
            "https://public@127.0.0.1/1", environment="test", release="r1", transport=capture
        )
    yield capture
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN, so nothing is sent for the rest of the run


def _dump(event: dict[str, Any]) -> str:
    return json.dumps(event)


def test_no_pii_by_default_and_options(transport: CapturingTransport) -> None:
    client = sentry_sdk.get_client()
    assert client.is_active()
    assert client.should_send_default_pii() is False
    assert client.options["environment"] == "test"
    assert client.options["release"] == "r1"
    assert client.options["before_send"] is not None
    names = {type(i).__name__ for i in client.integrations.values()}
    assert "DjangoIntegration" in names


def test_message_and_extra_data_are_scrubbed(transport: CapturingTransport) -> None:
    token = request_id_var.set("sentry-rid-1234")
    try:
        with sentry_sdk.new_scope() as scope:
            scope.set_extra("login", {"username": "ann", "password": "hunter2-password"})
            scope.set_extra("mfa", {"totp_code": "482913", "recovery_code": "rc-ABCD-EFGH"})
            scope.set_extra("note", f"header was Bearer opaque-bearer-credential and {JWT}")
            sentry_sdk.capture_message(f"login failed password=hunter2-password token {JWT}")
    finally:
        request_id_var.reset(token)
    sentry_sdk.flush()
    [event] = transport.events
    dumped = _dump(event)
    for secret in SECRETS[:5]:
        assert secret not in dumped, secret
    assert event["extra"]["login"]["username"] == "ann"
    assert event["tags"]["request_id"] == "sentry-rid-1234"


@override_settings(ROOT_URLCONF="tests.observability.urls")
@pytest.mark.django_db
def test_django_error_event_has_no_credentials(transport: CapturingTransport) -> None:
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "sessioncookievalue"
    client.cookies["csrftoken"] = "csrfcookievalue"
    response = client.get(
        "/test/boom?code=482913&page=2",
        headers={
            "Authorization": "Bearer opaque-bearer-credential",
            "X-Request-ID": "boom-sentry-12345",
            "X-Api-Token": JWT,
        },
    )
    assert response.status_code == 500
    sentry_sdk.flush()
    [event] = transport.events
    dumped = _dump(event)
    for secret in SECRETS:
        assert secret not in dumped, secret
    assert event["tags"]["request_id"] == "boom-sentry-12345"
    request = event["request"]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers.get("authorization") in (None, FILTERED)
    assert request.get("cookies") in (None, FILTERED, {})
    assert "kaboom" in event["exception"]["values"][0]["value"]
    assert "user" not in event or "ip_address" not in event.get("user", {})


@override_settings(ROOT_URLCONF="tests.observability.urls")
def test_database_down_is_no_sentry_event_per_request(transport: CapturingTransport) -> None:
    """A database outage is reported once per outage by a WARNING (docs/deployment.md),
    not by one Sentry event per 503; other errors still are events."""
    client = Client(raise_request_exception=False)
    for _ in range(3):
        assert client.get("/test/database-down").status_code == 503
    assert client.get("/test/boom").status_code == 500
    sentry_sdk.flush()
    values = [e["exception"]["values"][0]["value"] for e in transport.events]
    assert len(values) == 1 and "kaboom" in values[0], values


def test_scrub_event_handles_breadcrumbs_and_frames() -> None:
    event: dict[str, Any] = {
        "breadcrumbs": {"values": [{"message": f"GET /x?access={JWT}", "data": {"pwd": "x1"}}]},
        "exception": {
            "values": [
                {
                    "value": "password=hunter2-password",
                    "stacktrace": {"frames": [{"vars": {"secret": "s3cr3t", "n": 1}}]},
                }
            ]
        },
        "request": {"headers": {"Cookie": "sessionid=sessioncookievalue"}, "cookies": "a=b"},
    }
    scrubbed = scrub_event(event)
    dumped = _dump(scrubbed)
    for secret in (JWT, "x1", "hunter2-password", "s3cr3t", "sessioncookievalue"):
        assert secret not in dumped
    assert scrubbed["exception"]["values"][0]["stacktrace"]["frames"][0]["vars"]["n"] == 1


def test_init_without_dsn_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SENTRY_DSN", raising=False)
    before = sentry_sdk.get_client()
    assert init_sentry() is False
    assert sentry_sdk.get_client() is before


@pytest.mark.parametrize(
    ("django_env", "expected"),
    [(None, "production"), ("", "production"), ("  ", "production"), ("dev", "development")],
)
def test_environment_tag_follows_django_env_like_hardening_env(
    monkeypatch: pytest.MonkeyPatch, django_env: str | None, expected: str
) -> None:
    # hardening.env's rule: unset or empty DJANGO_ENV is production (fail safe).
    monkeypatch.delenv("SENTRY_ENVIRONMENT", raising=False)
    if django_env is None:
        monkeypatch.delenv("DJANGO_ENV", raising=False)
    else:
        monkeypatch.setenv("DJANGO_ENV", django_env)
    try:
        assert init_sentry("https://public@127.0.0.1/1", transport=CapturingTransport())
        assert sentry_sdk.get_client().options["environment"] == expected
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()


class _Collector(http.server.BaseHTTPRequestHandler):
    bodies: list[bytes]

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        type(self).bodies.append(raw)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_real_http_transport_to_a_local_dsn() -> None:
    """The SDK's own HTTP transport, posting to a collector on 127.0.0.1 (no network)."""

    class Handler(_Collector):
        bodies: list[bytes] = []

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        assert init_sentry(f"http://publickey@127.0.0.1:{port}/1", environment="test")
        token = request_id_var.set("http-dsn-rid-123")
        try:
            with sentry_sdk.new_scope() as scope:
                scope.set_extra("login", {"password": "hunter2-password", "user": "ann"})
                sentry_sdk.capture_message(f"refused Bearer opaque-bearer-credential {JWT}")
        finally:
            request_id_var.reset(token)
        sentry_sdk.flush(timeout=10)
        deadline = time.monotonic() + 10
        while not Handler.bodies and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.init()
        server.shutdown()
        server.server_close()
    body = b"".join(Handler.bodies)
    assert b'"request_id":"http-dsn-rid-123"' in body.replace(b" ", b"")
    assert b'"user":"ann"' in body.replace(b" ", b"")
    for secret in (JWT, "hunter2-password", "opaque-bearer-credential"):
        assert secret.encode() not in body, secret
