from __future__ import annotations

import re

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient, Client, SimpleTestCase, override_settings

from hardening.context import current_request_id, request_id_var
from hardening.observability.middleware import (
    RequestMiddleware,
    new_request_id,
    valid_request_id,
)

GENERATED = re.compile(r"[0-9a-f]{32}")

INVALID = [
    "",
    "short",  # fewer than 8 characters
    "a" * 129,  # overlong
    "x" * 10_000,
    "abcdefgh\r\nSet-Cookie: evil=1",
    "abcdefgh\nfake log line",
    "abcdefgh ijkl",
    'abcdefgh"ijkl',
    "abcdefgh'ijkl",
    "abcdefgh<script>",
    "abcdéfghijkl",
    "../../etc/passwd",
    "abcdefgh;rm -rf",
    "abcdefgh%0d%0aX",
]
VALID = ["abcdefgh", "a" * 128, "3f2a9c1e-7b1d-4c1e-9a1b-0c2d3e4f5a6b", "trace.ID_01-xyz"]


@pytest.mark.parametrize("value", VALID)
def test_valid_request_ids_are_accepted(value: str) -> None:
    assert valid_request_id(value)


@pytest.mark.parametrize("value", INVALID)
def test_unsafe_request_ids_are_rejected(value: str) -> None:
    assert not valid_request_id(value)


def test_new_request_id_is_valid_and_unique() -> None:
    ids = {new_request_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(valid_request_id(i) and GENERATED.fullmatch(i) for i in ids)


@override_settings(ROOT_URLCONF="tests.observability.urls")
class RequestIDTests(SimpleTestCase):
    def test_incoming_valid_id_is_used_everywhere(self) -> None:
        response = self.client.get("/test/echo", headers={"X-Request-ID": "client-id-12345"})
        assert response.status_code == 200
        assert response["X-Request-ID"] == "client-id-12345"
        assert response.json() == {"request_id": "client-id-12345"}

    def test_missing_id_is_generated(self) -> None:
        response = self.client.get("/test/echo")
        rid = response["X-Request-ID"]
        assert GENERATED.fullmatch(rid)
        assert response.json() == {"request_id": rid}

    def test_injection_attempts_are_replaced(self) -> None:
        # The test client passes headers through META untouched, like a WSGI server would.
        for value in INVALID:
            response = self.client.get("/test/echo", HTTP_X_REQUEST_ID=value)
            rid = response["X-Request-ID"]
            assert GENERATED.fullmatch(rid), value
            assert rid != value
            assert response.json() == {"request_id": rid}

    def test_echoed_on_json_404(self) -> None:
        response = self.client.get("/no/such/page", headers={"X-Request-ID": "rid-404-abcdef"})
        assert response.status_code == 404
        assert response["X-Request-ID"] == "rid-404-abcdef"
        assert response.json()["request_id"] == "rid-404-abcdef"

    def test_echoed_on_json_500(self) -> None:
        client = Client(raise_request_exception=False)
        response = client.get("/test/boom", headers={"X-Request-ID": "rid-500-abcdef"})
        assert response.status_code == 500
        assert response["X-Request-ID"] == "rid-500-abcdef"
        assert response.json() == {
            "error": "server_error",
            "detail": "Internal server error.",
            "request_id": "rid-500-abcdef",
        }

    def test_echoed_on_401(self) -> None:
        response = self.client.get("/api/me", headers={"X-Request-ID": "rid-401-abcdef"})
        assert response.status_code in (401, 403)
        assert response["X-Request-ID"] == "rid-401-abcdef"

    def test_context_is_reset_after_the_request(self) -> None:
        assert current_request_id() is None
        self.client.get("/test/echo", headers={"X-Request-ID": "rid-reset-abcdef"})
        assert current_request_id() is None
        client = Client(raise_request_exception=False)
        client.get("/test/boom")
        assert current_request_id() is None


@override_settings(ROOT_URLCONF="tests.observability.urls")
async def test_async_stack_sets_and_echoes_the_id() -> None:
    client = AsyncClient()
    response = await client.get("/test/async-echo", headers={"X-Request-ID": "async-rid-1234"})
    assert response["X-Request-ID"] == "async-rid-1234"
    assert response.json() == {"request_id": "async-rid-1234"}
    response = await client.get("/test/echo", headers={"X-Request-ID": "bad id\r\n"})
    assert GENERATED.fullmatch(response["X-Request-ID"])
    assert current_request_id() is None


async def test_middleware_in_async_mode_resets_the_contextvar() -> None:
    seen: list[str | None] = []

    async def view(request: HttpRequest) -> HttpResponse:
        seen.append(request_id_var.get())
        return HttpResponse("ok")

    middleware = RequestMiddleware(view)
    request = HttpRequest()
    request.META["HTTP_X_REQUEST_ID"] = "async-direct-1"
    response = await middleware(request)
    assert seen == ["async-direct-1"]
    assert response["X-Request-ID"] == "async-direct-1"
    assert request_id_var.get() is None


def test_middleware_in_sync_mode_resets_even_when_the_view_raises() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        raise ValueError("x")

    middleware = RequestMiddleware(view)
    with pytest.raises(ValueError):
        middleware(HttpRequest())
    assert request_id_var.get() is None
