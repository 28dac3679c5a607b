from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import AsyncClient, Client, SimpleTestCase, override_settings

from hardening.headers.csp import (
    API_CSP,
    DEFAULT_CSP,
    DJANGO_CSP_MIDDLEWARE,
    NONCE,
    SELF,
    build_policy,
)
from hardening.headers.middleware import SecurityHeadersMiddleware
from hardening.headers.policies import build_permissions_policy

HTML_CSP = (
    "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)
API = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def test_default_policies_render_as_documented() -> None:
    assert build_policy(DEFAULT_CSP) == HTML_CSP
    assert build_policy(API_CSP) == API
    assert build_policy({"script-src": [SELF, NONCE]}) == "script-src 'self'"
    assert build_policy({"script-src": [SELF, NONCE]}, "abc") == "script-src 'self' 'nonce-abc'"
    assert build_policy({"upgrade-insecure-requests": True, "x": None}) == (
        "upgrade-insecure-requests"
    )
    assert build_permissions_policy({"camera": [], "fullscreen": ["self"], "usb": ["*"]}) == (
        "camera=(), fullscreen=(self), usb=*"
    )


def assert_common(response: HttpResponse) -> None:
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@override_settings(ROOT_URLCONF="tests.observability.urls")
class HeaderTests(SimpleTestCase):
    def test_html_page(self) -> None:
        response = self.client.get("/test/page")
        assert response.status_code == 200
        assert_common(response)
        assert response["Content-Security-Policy"] == HTML_CSP
        assert response["Cross-Origin-Embedder-Policy"] == "require-corp"
        assert "Cache-Control" not in response  # a public page may be cached

    def test_admin_login_page_is_html_and_not_stored(self) -> None:
        response = self.client.get("/admin/login/")
        assert response.status_code == 200
        assert_common(response)
        assert response["Content-Security-Policy"] == HTML_CSP
        assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]

    def test_api_success_and_error(self) -> None:
        for path, status in (("/api/me", 401), ("/test/echo", 200)):
            response = self.client.get(path)
            assert response.status_code in (status, 403), path
            assert_common(response)
            assert response["Content-Security-Policy"] == API
            assert response["Cache-Control"] == "no-store"
            assert "Cross-Origin-Embedder-Policy" not in response

    def test_json_404_and_500(self) -> None:
        response = self.client.get("/nothing/here")
        assert response.status_code == 404
        assert_common(response)
        assert response["Content-Security-Policy"] == API
        assert response["Cache-Control"] == "no-store"
        response = Client(raise_request_exception=False).get("/test/boom")
        assert response.status_code == 500
        assert_common(response)
        assert response["Content-Security-Policy"] == API

    def test_nonce_is_added_only_when_used(self) -> None:
        response = self.client.get("/test/page?nonce=1")
        nonce = re.search(r"nonce='([^']+)'", response.content.decode())
        assert nonce
        assert f"'nonce-{nonce.group(1)}'" not in response["Content-Security-Policy"]  # no NONCE
        with self.settings(HARDENING_CSP={**DEFAULT_CSP, "script-src": [SELF, NONCE]}):
            response = self.client.get("/test/page?nonce=1")
            nonce = re.search(r"nonce='([^']+)'", response.content.decode())
            assert nonce
            assert (
                f"script-src 'self' 'nonce-{nonce.group(1)}'" in response["Content-Security-Policy"]
            )
            response = self.client.get("/test/page")
            assert "script-src 'self'" in response["Content-Security-Policy"]
            assert "nonce-" not in response["Content-Security-Policy"]

    def test_settings_change_is_picked_up(self) -> None:
        with self.settings(
            HARDENING_PERMISSIONS_POLICY={"geolocation": ["self"]},
            HARDENING_CROSS_ORIGIN_RESOURCE_POLICY="same-site",
            HARDENING_CROSS_ORIGIN_EMBEDDER_POLICY="",
            SECURE_CSP={"default-src": [SELF]},
        ):
            response = self.client.get("/test/page")
            assert response["Permissions-Policy"] == "geolocation=(self)"
            assert response["Cross-Origin-Resource-Policy"] == "same-site"
            assert "Cross-Origin-Embedder-Policy" not in response
            assert response["Content-Security-Policy"] == "default-src 'self'"
        assert self.client.get("/test/page")["Content-Security-Policy"] == HTML_CSP

    def test_api_paths_are_the_core_setting_and_account_pages_are_not_stored(self) -> None:
        def html(request: HttpRequest) -> HttpResponse:
            return HttpResponse("<p>x</p>")

        # Ours sends the header itself (on Django 6 with its CSP middleware it hands the
        # policy to that one instead: tested in test_django6_csp*).
        without_django_csp = [m for m in settings.MIDDLEWARE if m != DJANGO_CSP_MIDDLEWARE]
        override = self.settings(MIDDLEWARE=without_django_csp)
        override.enable()
        self.addCleanup(override.disable)
        middleware = SecurityHeadersMiddleware(html)
        request = HttpRequest()
        request.path = "/v1/things"
        response = middleware(request)
        assert response["Content-Security-Policy"] == HTML_CSP
        assert "Cache-Control" not in response
        with self.settings(HARDENING_API_PATHS=["/v1/", "^/v[2-9]/"]):
            for path in ("/v1/things", "/v2/things"):
                request = HttpRequest()
                request.path = path
                response = middleware(request)
                assert response["Content-Security-Policy"] == API, path
                assert response["Cache-Control"] == "no-store", path
        for path in ("/account/mfa/", "/accounts/x", "/admin/"):
            request = HttpRequest()
            request.path = path
            assert middleware(request)["Cache-Control"] == "no-store", path

    def test_unusable_values_fall_back_to_the_defaults(self) -> None:
        with self.settings(
            HARDENING_CROSS_ORIGIN_RESOURCE_POLICY="same-orign",
            HARDENING_CROSS_ORIGIN_EMBEDDER_POLICY=["require-corp"],
            HARDENING_PERMISSIONS_POLICY=["camera"],
            HARDENING_CSP="default-src *",
        ):
            response = self.client.get("/test/page")  # never a 500 (hardening.E614)
        assert response.status_code == 200
        assert_common(response)
        assert response["Cross-Origin-Embedder-Policy"] == "require-corp"
        assert response["Content-Security-Policy"] == HTML_CSP

    def test_views_keep_their_own_headers(self) -> None:
        def view(request: HttpRequest) -> HttpResponse:
            response = JsonResponse({})
            response["Content-Security-Policy"] = "default-src 'self'"
            response["Cache-Control"] = "public, max-age=60"
            return response

        request = HttpRequest()
        request.path = "/api/x"
        response = SecurityHeadersMiddleware(view)(request)
        assert response["Content-Security-Policy"] == "default-src 'self'"
        assert response["Cache-Control"] == "public, max-age=60"

    def test_responses_setting_cookies_or_to_credentialed_requests_are_not_stored(
        self,
    ) -> None:
        def view(request: HttpRequest) -> HttpResponse:
            response = HttpResponse("<p>x</p>")
            if request.GET.get("cookie"):
                response.set_cookie("a", "b")
            return response

        middleware = SecurityHeadersMiddleware(view)
        request = HttpRequest()
        request.path = "/page"
        request.GET = request.GET.copy()
        request.GET["cookie"] = "1"
        assert middleware(request)["Cache-Control"] == "no-store"
        request = HttpRequest()
        request.path = "/page"
        request.META["HTTP_AUTHORIZATION"] = "Bearer x"
        assert middleware(request)["Cache-Control"] == "no-store"
        request = HttpRequest()
        request.path = "/page"
        assert "Cache-Control" not in middleware(request)


@override_settings(ROOT_URLCONF="tests.observability.urls")
async def test_async_stack_adds_headers() -> None:
    response = await AsyncClient().get("/test/async-echo")
    assert response["Content-Security-Policy"] == API
    assert response["Cache-Control"] == "no-store"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"


async def test_middleware_async_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    # A bare chain without Django 6's CSP middleware (which the example adds on 6.x).
    monkeypatch.setattr(
        "hardening.headers.middleware.django_csp_middleware_active", lambda middleware: False
    )

    async def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("<p>x</p>")

    middleware = SecurityHeadersMiddleware(view)
    request = HttpRequest()
    request.path = "/"
    response = await middleware(request)
    assert response["Content-Security-Policy"] == HTML_CSP


def test_django6_csp_middleware_is_left_to_send_html_policy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # On Django >= 6.0 the example adds django.middleware.csp, which sends SECURE_CSP on
    # HTML responses; ours still sends the strict API policy, which Django keeps.
    monkeypatch.setattr(
        "hardening.headers.middleware.django_csp_middleware_active", lambda middleware: True
    )

    def html(request: HttpRequest) -> HttpResponse:
        return HttpResponse("<p>x</p>")

    request = HttpRequest()
    request.path = "/page"
    response = SecurityHeadersMiddleware(html)(request)
    assert "Content-Security-Policy" not in response
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    request.path = "/api/x"
    response = SecurityHeadersMiddleware(lambda r: JsonResponse({}))(request)
    assert response["Content-Security-Policy"] == API


def test_context_processor_gives_the_lazy_nonce() -> None:
    from django.template import engines

    from hardening.headers.context_processors import csp
    from hardening.headers.csp import LazyNonce
    from hardening.request import state

    request = HttpRequest()
    assert csp(request) == {"csp_nonce": ""}
    nonce = state(request).csp_nonce = LazyNonce()
    context = csp(request)
    assert not nonce.used
    html = engines["django"].from_string("<script nonce='{{ csp_nonce }}'>").render(context)
    assert nonce.used
    assert str(nonce) in html


def test_the_nonce_wraps_django_6s_and_the_request_keeps_no_loose_attribute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With Django 6's CSP middleware the request's nonce is Django's value (one nonce for
    the template and Django's header); either way it lives in request.hardening."""
    from hardening.headers.context_processors import csp
    from hardening.request import state

    monkeypatch.setattr(
        "hardening.headers.middleware.django_csp_middleware_active", lambda middleware: True
    )
    seen: dict[str, str] = {}

    def html(request: HttpRequest) -> HttpResponse:
        seen["nonce"] = str(csp(request)["csp_nonce"])
        return HttpResponse("<p>x</p>")

    request = HttpRequest()
    request.path = "/page"
    request._csp_nonce = "django-nonce"  # type: ignore[attr-defined]  # what Django 6 sets
    SecurityHeadersMiddleware(html)(request)
    assert seen["nonce"] == "django-nonce"
    nonce = state(request).csp_nonce
    assert nonce is not None and nonce.used
    assert "csp_nonce" not in request.__dict__


def test_build_policy_renders_every_value_shape() -> None:
    config = {
        "upgrade-insecure-requests": True,
        "block-all-mixed-content": False,
        "report-uri": None,
        "default-src": "'self'",
        "img-src": frozenset({"data:", "'self'"}),
        "script-src": [SELF, NONCE],
    }
    assert build_policy(config, nonce="abc") == (
        "upgrade-insecure-requests; default-src 'self'; img-src 'self' data:; "
        "script-src 'self' 'nonce-abc'"
    )


def test_django_csp_middleware_is_active_only_when_installed_and_importable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    from hardening.headers.csp import DJANGO_CSP_MIDDLEWARE, django_csp_middleware_active

    assert not django_csp_middleware_active([])
    monkeypatch.setitem(sys.modules, "django.middleware.csp", None)  # Django 5.2: no module
    assert not django_csp_middleware_active([DJANGO_CSP_MIDDLEWARE])
    monkeypatch.delitem(sys.modules, "django.middleware.csp")
    import django

    if django.VERSION >= (6, 0):
        assert django_csp_middleware_active([DJANGO_CSP_MIDDLEWARE])
