from __future__ import annotations

import sys

import pytest
from django.test import override_settings

from tests.helpers.checks import check_error_codes, production


def test_a_query_token_in_production_is_a_warning() -> None:
    with production(HARDENING_WEBSOCKET_QUERY_TOKEN=True):
        assert check_error_codes().get("hardening.W701") == "WARNING"
    with production():
        assert "hardening.W701" not in check_error_codes()
    with override_settings(HARDENING_WEBSOCKET_QUERY_TOKEN=True):  # test environment
        assert "hardening.W701" not in check_error_codes()


def test_an_unusable_value_is_an_error_in_production() -> None:
    with production(HARDENING_WEBSOCKET_QUERY_TOKEN="yes please"):
        assert check_error_codes().get("hardening.E701") == "ERROR"


def test_a_websocket_route_without_the_middleware_is_a_warning() -> None:
    with override_settings(ASGI_APPLICATION="tests.websocket.asgi_unguarded.application"):
        assert check_error_codes().get("hardening.W702") == "WARNING"
    with override_settings(ASGI_APPLICATION="tests.websocket.asgi_unguarded.guarded"):
        assert "hardening.W702" not in check_error_codes()


def test_the_example_application_is_guarded() -> None:
    assert "hardening.W702" not in check_error_codes()  # example_project.asgi.application
    with override_settings(ASGI_APPLICATION="no.such.module.application"):
        assert "hardening.W702" not in check_error_codes()


def test_the_walk_tells_guarded_from_unguarded() -> None:
    from hardening.websocket.checks import unguarded_websocket

    assert unguarded_websocket("example_project.asgi.application") is False
    assert unguarded_websocket("tests.websocket.asgi_unguarded.application") is True
    assert unguarded_websocket("tests.websocket.asgi_unguarded.guarded") is False
    assert unguarded_websocket("no.such.module.application") is None


def test_inspecting_neither_sets_django_up_again_nor_runs_the_startup_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Django's set-up would reconfigure logging in the middle of a check run (and drop
    handlers such as pytest's), the start-up checks would run every check again."""
    import django

    from hardening import startup
    from hardening.websocket.checks import unguarded_websocket

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("called while a check inspects the application")

    monkeypatch.setattr(django, "setup", forbidden)
    monkeypatch.setattr(startup.checks, "run_checks", forbidden)
    monkeypatch.delitem(sys.modules, "example_project.asgi", raising=False)
    assert unguarded_websocket("example_project.asgi.application") is False
