"""hardening.errors in-process: the one JSON error shape for every path that refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import RequestFactory, override_settings
from jwt.exceptions import InvalidKeyError
from rest_framework import exceptions

from hardening import errors
from hardening.context import request_id_var
from hardening.observability.metrics import BAD_REQUESTS


def body(response: Any) -> dict[str, Any]:
    data = json.loads(response.content)
    assert isinstance(data, dict)
    return data


def bad_requests(code: str) -> float:
    return BAD_REQUESTS.labels(code=code)._value.get()  # type: ignore[no-any-return]


def test_reject_answers_json_with_the_request_id_counts_and_audits(
    events: list[tuple[str, dict[str, Any]]],
) -> None:
    token = request_id_var.set("req-12345678")
    before = bad_requests("bad_cursor")
    try:
        response = errors.reject(
            RequestFactory().get("/api/items"), 400, "bad_cursor", "Bad cursor.", field="cursor"
        )
    finally:
        request_id_var.reset(token)
    assert response.status_code == 400
    assert body(response) == {
        "error": "bad_cursor",
        "detail": "Bad cursor.",
        "request_id": "req-12345678",
    }
    assert bad_requests("bad_cursor") == before + 1
    assert ("request.rejected", {"reason": "bad_cursor", "field": "cursor"}) in [
        (event, {k: v for k, v in fields.items() if k in ("reason", "field")})
        for event, fields in events
    ]


@pytest.mark.parametrize(
    ("exc", "code", "detail"),
    [
        (exceptions.ValidationError({"name": ["This field is required."]}), "invalid", "This"),
        (exceptions.ValidationError(["first", "second"]), "invalid", "first"),
        (exceptions.NotAuthenticated(), "not_authenticated", "Authentication"),
        (exceptions.Throttled(wait=3), "throttled", "Request was throttled"),
    ],
)
def test_drf_errors_take_the_shape(exc: Exception, code: str, detail: str) -> None:
    response = errors.drf_exception_handler(exc, {})
    assert response is not None
    assert response.data["error"] == code
    assert response.data["detail"].startswith(detail)
    assert ("fields" in response.data) == isinstance(getattr(exc, "detail", None), dict)


def test_a_jwt_key_pyjwt_refuses_is_503_not_500(caplog: pytest.LogCaptureFixture) -> None:
    response = errors.drf_exception_handler(InvalidKeyError("PEM with HS256"), {})
    assert response is not None and response.status_code == 503
    assert response.data["error"] == "server_misconfigured"
    assert "hardening.E027" in caplog.text


def test_other_exceptions_are_left_to_django() -> None:
    assert errors.drf_exception_handler(ValueError("boom"), {}) is None


@pytest.mark.parametrize(
    ("handler", "status", "code"),
    [
        (errors.handler400, 400, "bad_request"),
        (errors.handler403, 403, "forbidden"),
        (errors.handler404, 404, "not_found"),
    ],
)
def test_error_pages_are_json(handler: Any, status: int, code: str) -> None:
    response = handler(RequestFactory().get("/nowhere"), Exception("x"))
    assert response.status_code == status
    assert body(response)["error"] == code


def test_handler500_is_json() -> None:
    response = errors.handler500(RequestFactory().get("/"))
    assert response.status_code == 500
    assert body(response)["error"] == "server_error"


@override_settings(ALLOWED_HOSTS=["testserver"])
def test_csrf_page_goes_back_to_the_site_root_for_a_foreign_or_bad_referer() -> None:
    factory = RequestFactory()
    browser = {"HTTP_ACCEPT": "text/html"}
    same = factory.post("/account/login/", HTTP_REFERER="http://testserver/account/mfa/", **browser)
    assert 'href="http://testserver/account/mfa/' in errors.csrf_failure(same).content.decode()
    foreign = factory.post("/account/login/", HTTP_REFERER="https://evil.example/", **browser)
    assert 'href="/' in errors.csrf_failure(foreign).content.decode()
    bad_host = factory.post(
        "/account/login/", HTTP_REFERER="http://testserver/", HTTP_HOST="evil.example", **browser
    )
    assert 'href="/' in errors.csrf_failure(bad_host).content.decode()
    api = factory.post("/api/items", HTTP_ACCEPT="application/json")
    assert body(errors.csrf_failure(api))["error"] == "csrf_failed"
