"""hardening.E620: CorsMiddleware above every middleware that can answer early, proven with a
real django-cors-headers stack (the 429 of a rate limit is readable cross-origin only when
CorsMiddleware sits above it)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.checks import Error
from django.test import override_settings

from hardening.headers.interplay import CORS, EARLY_ANSWERS, check_cors_order, cors_below
from tests.helpers.checks import check_error_codes, production

REQUEST = "hardening.middleware.RequestMiddleware"


def with_cors_at(index: int) -> list[str]:
    middleware = [m for m in settings.MIDDLEWARE if m != CORS]
    middleware.insert(index, CORS)
    return middleware


def test_cors_right_after_the_request_middleware_passes() -> None:
    middleware = with_cors_at(list(settings.MIDDLEWARE).index(REQUEST) + 1)
    with production(MIDDLEWARE=middleware):
        assert "hardening.E620" not in check_error_codes()


@pytest.mark.parametrize("early", sorted(EARLY_ANSWERS))
def test_cors_below_an_early_answer_is_an_error(early: str) -> None:
    middleware = ["hardening.middleware.RequestMiddleware", early, CORS]
    assert cors_below(middleware) == [early]
    with production(MIDDLEWARE=middleware):
        (message,) = check_cors_order()
    assert isinstance(message, Error) and message.id == "hardening.E620"
    assert early.rsplit(".", 1)[-1] in message.msg


def test_cors_at_the_bottom_of_the_example_stack_names_each_early_answer() -> None:
    with production(MIDDLEWARE=[*settings.MIDDLEWARE, CORS]):
        assert check_error_codes().get("hardening.E620") == "ERROR"
        (message,) = check_cors_order()
    installed = [m for m in EARLY_ANSWERS if m in settings.MIDDLEWARE]
    assert installed and all(m.rsplit(".", 1)[-1] in message.msg for m in installed)


def test_a_room_module_path_counts_like_the_public_name() -> None:
    middleware = ["hardening.ratelimit.middleware.RateLimitMiddleware", CORS]
    with production(MIDDLEWARE=middleware):
        assert [m.id for m in check_cors_order()] == ["hardening.E620"]


def test_without_cors_nothing_to_say() -> None:
    with production():
        assert "hardening.E620" not in check_error_codes()


def test_in_development_it_is_a_warning() -> None:
    with production(HARDENING_ENVIRONMENT="development", MIDDLEWARE=[*settings.MIDDLEWARE, CORS]):
        assert check_error_codes().get("hardening.E620") == "WARNING"


@override_settings(
    ROOT_URLCONF="tests.headers.interplay_urls",
    CORS_ALLOWED_ORIGINS=["https://app.example.com"],
    HARDENING_RATELIMIT_POLICIES=[{"name": "tiny", "key": "ip", "rates": ["1/m"]}],
)
@pytest.mark.parametrize(("cors_first", "readable"), [(True, True), (False, False)])
def test_a_429_is_readable_cross_origin_only_with_cors_above(
    cors_first: bool, readable: bool
) -> None:
    from django.core.cache import caches
    from django.test import Client

    caches["default"].clear()
    base = [
        "hardening.middleware.RequestMiddleware",
        "hardening.middleware.RateLimitMiddleware",
        "django.middleware.common.CommonMiddleware",
    ]
    middleware = [base[0], CORS, *base[1:]] if cors_first else [*base, CORS]
    with override_settings(
        MIDDLEWARE=middleware, INSTALLED_APPS=[*settings.INSTALLED_APPS, "corsheaders"]
    ):
        browser = Client(HTTP_ORIGIN="https://app.example.com")
        statuses = [browser.get("/ping") for _ in range(3)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited, [r.status_code for r in statuses]
    assert ("access-control-allow-origin" in limited[-1].headers) is readable
