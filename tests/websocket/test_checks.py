from __future__ import annotations

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
