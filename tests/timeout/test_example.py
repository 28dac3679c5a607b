"""The example project's wiring: middleware position, settings, demo views."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client

from hardening.timeout.checks import MIDDLEWARE_PATH
from tests.timeout.helpers import audited


def test_middleware_is_wired_in_order() -> None:
    middleware = list(settings.MIDDLEWARE)
    position = middleware.index(MIDDLEWARE_PATH)
    assert middleware.index("django.middleware.security.SecurityMiddleware") < position
    assert position < middleware.index("django.contrib.sessions.middleware.SessionMiddleware")
    assert position < middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware")


@pytest.mark.parametrize("ms", ["abc", "-1", "1.5", "60001", "9" * 40, "١٢"])
def test_demo_views_reject_bad_ms_with_400(ms: str) -> None:
    for path in ("/api/slow", "/api/slow-db"):
        with audited() as events:
            response = Client().get(path, {"ms": ms})
        assert response.status_code == 400, (path, ms)
        assert json.loads(response.content)["error"] == "invalid_ms"
        assert [e["event"] for e in events] == ["request.rejected"]


def test_slow_demo_answers() -> None:
    response = Client().get("/api/slow", {"ms": "5"})
    assert response.status_code == 200
    assert json.loads(response.content) == {"slept_ms": 5}


@pytest.mark.django_db
def test_slow_db_demo_needs_postgres() -> None:
    from django.db import connection

    response = Client().get("/api/slow-db", {"ms": "5"})
    if connection.vendor == "postgresql":
        assert (response.status_code, json.loads(response.content)) == (200, {"slept_ms": 5})
    else:
        assert response.status_code == 501
        assert json.loads(response.content)["error"] == "not_supported"
