"""The example project, in-process: the wiring users copy (and runserver, as a process)."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from tests.servers import serve

pytestmark = pytest.mark.django_db


def test_me_requires_authentication_with_a_json_error(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = response.json()
    assert set(body) >= {"error", "detail", "request_id"}
    assert body["error"] == "not_authenticated"
    assert body["request_id"] == response["X-Request-ID"]
    # Django's own "Unauthorized" log line carries the same request ID.
    logged = [r for r in caplog.records if r.name == "django.request"]
    assert logged
    from hardening.observability.logging import RequestContextFilter

    RequestContextFilter().filter(logged[-1])
    assert logged[-1].request_id == body["request_id"]  # type: ignore[attr-defined]


def test_me_with_a_session(client: Client) -> None:
    user = get_user_model().objects.create_user("alice", password="pw-alice-123456")
    client.force_login(user)
    response = client.get("/api/me")
    assert response.status_code == 200
    assert response.json() == {"sub": str(user.pk), "auth": "session", "mfa": False}


def _bad_requests(code: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("hardening_bad_requests_total", {"code": code}) or 0.0


def test_unknown_url_is_a_json_404_and_counted(client: Client) -> None:
    before = _bad_requests("not_found")
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "Traceback" not in response.content.decode()
    assert _bad_requests("not_found") == before + 1


def test_drf_client_errors_are_counted(client: Client) -> None:
    before = _bad_requests("not_authenticated")
    assert client.get("/api/me").status_code == 401
    assert _bad_requests("not_authenticated") == before + 1


def test_malformed_json_is_a_400_not_a_500(client: Client) -> None:
    user = get_user_model().objects.create_user("bob", password="pw-bob-123456")
    client.force_login(user)
    response = client.generic("POST", "/api/me", "{not json", content_type="application/json")
    assert 400 <= response.status_code < 500
    assert response.json()["error"]


@override_settings(DEBUG=False)
def test_server_errors_are_json_without_a_stack_trace() -> None:
    from hardening.errors import handler500

    response = handler500(None)  # type: ignore[arg-type]
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert b"Traceback" not in response.content


def test_the_root_is_a_json_index_of_the_endpoints(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    endpoints = response.json()["endpoints"]
    assert endpoints["me"] == "/api/me" and endpoints["login"] == "/account/login/"
    for path in ("/api/me", "/account/login/", "/health/live", "/metrics"):
        assert path in endpoints.values()


def test_the_auth_rate_limit_counts_login_posts_not_page_loads() -> None:
    from django.conf import settings

    auth = next(p for p in settings.HARDENING_RATELIMIT_POLICIES if p["name"] == "auth")
    assert auth["methods"] == ["POST"]
    assert "/account/login/" in auth["paths"]
    limit = int(auth["rates"][0].split("/")[0])
    client = Client()
    statuses = {client.get("/account/login/").status_code for _ in range(limit + 5)}
    assert statuses == {200}
    from django.core.cache import caches

    assert "LocMem" in settings.CACHES["default"]["BACKEND"]
    try:
        # A new username each time: the per-account lockout (5 failures) must not answer first.
        posts = [
            client.post("/account/login/", {"username": f"x{i}", "password": "y"}).status_code
            for i in range(limit + 2)
        ]
    finally:
        caches["default"].clear()  # LocMem only: the counters and the ban of 127.0.0.1
    assert 429 in posts, posts
    assert set(posts[:limit]) == {401}, posts


def test_runserver_access_lines_carry_the_request_id(client: Client) -> None:
    import logging

    from hardening.observability.logging import RequestContextFilter

    response = client.get("/health/live")
    record = logging.LogRecord("django.server", logging.INFO, __file__, 1, '"GET /" 200', (), None)
    RequestContextFilter().filter(record)
    assert record.request_id == response["X-Request-ID"]  # type: ignore[attr-defined]


def _access_line(output: str, path: str) -> dict[str, Any] | None:
    """runserver's JSON access line (logger ``django.server``) for ``path``, once written."""
    for line in output.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("logger") == "django.server" and f"GET {path} " in record["message"]:
            return dict(record)
    return None


@pytest.mark.server
def test_a_real_runserver_access_line_carries_the_request_id(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}  # DJANGO_ENV=development
    path = f"/health/live?probe={uuid.uuid4().hex}"
    with serve("runserver", env=env, tmp_path=tmp_path, ready_path="/health/live") as server:
        reply = server.get(path)
        deadline = time.monotonic() + 10  # the line is written after the response
        while (line := _access_line(server.output(), path)) is None:
            assert time.monotonic() < deadline, server.output()[-3000:]
            time.sleep(0.05)
    assert reply.status == 200 and reply.headers["x-request-id"]
    assert line["request_id"] == reply.headers["x-request-id"], line
