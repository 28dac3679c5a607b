"""``SecurityHeadersMiddleware``: the security headers Django's ``SecurityMiddleware`` lacks.

Place it right after ``django.middleware.security.SecurityMiddleware``.  On each response
that does not already carry the header it adds:

* ``Content-Security-Policy``: :data:`~hardening.headers.csp.API_CSP` on API paths
  (``HARDENING_API_PATHS``) and JSON responses; on other responses ``HARDENING_CSP`` (which
  defaults to ``SECURE_CSP``).  When Django 6's own ``ContentSecurityPolicyMiddleware`` is
  installed (above this one), it renders that policy with its nonce: this middleware hands
  it over as the response's ``_csp_config``, Django's per-response override;
* ``Permissions-Policy`` (every powerful feature off by default);
* ``Cross-Origin-Resource-Policy: same-origin``;
* ``Cross-Origin-Embedder-Policy: require-corp`` on HTML responses (documents only);
* ``Cache-Control: no-store`` on API paths and :data:`NO_STORE_PREFIXES`, on responses that
  set cookies and on answers to credentialed requests, unless the view chose its own caching;
* ``X-Permitted-Cross-Domain-Policies: none`` (no Flash/PDF cross-domain policy files);
* ``Clear-Site-Data`` (:data:`CLEAR_SITE_DATA`) on the response of a request in which
  ``django.contrib.auth.logout()`` ran (the admin's and Django's ``LogoutView``, any view
  calling ``logout``): the ``user_logged_out`` signal marks the request
  (``request.hardening.logged_out``), and this middleware sets the header, since a signal
  cannot.

The request's CSP nonce is ``request.hardening.csp_nonce`` (templates: ``{{ csp_nonce }}``
through :func:`hardening.context_processors.csp`).
``Cross-Origin-Opener-Policy``, HSTS, ``X-Content-Type-Options`` and ``Referrer-Policy``
come from Django's ``SecurityMiddleware`` (see :func:`hardening.env.security_settings`).
"""

from __future__ import annotations

import weakref
from functools import cached_property
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from hardening.conf.core import api_path
from hardening.headers.conf import conf
from hardening.headers.csp import (
    API_CSP,
    HEADER,
    LazyNonce,
    build_policy,
    django_csp_middleware_active,
)
from hardening.headers.policies import build_permissions_policy
from hardening.headers.reports import ENDPOINT_NAME
from hardening.request import GetResponse, HardeningMiddleware, state

#: ``Clear-Site-Data`` on the response of a logout (browsers honour it over HTTPS only).
CLEAR_SITE_DATA = '"cache", "cookies", "storage"'
REPORT_ONLY = "Content-Security-Policy-Report-Only"
#: Paths answered ``no-store`` besides the API paths (account pages and the admin).
NO_STORE_PREFIXES = ("/account/", "/accounts/", "/admin/")

_INSTANCES: weakref.WeakSet[SecurityHeadersMiddleware] = weakref.WeakSet()


class SecurityHeadersMiddleware(HardeningMiddleware):
    def __init__(self, get_response: GetResponse) -> None:
        super().__init__(get_response)
        _INSTANCES.add(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        self._prepare(request)
        response = self.get_response(request)
        assert isinstance(response, HttpResponseBase)  # type narrow
        return self._add_headers(request, response)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        self._prepare(request)
        result = self.get_response(request)
        assert not isinstance(result, HttpResponseBase)  # type narrow
        return self._add_headers(request, await result)

    # -- derived values, rebuilt when a setting changes ------------------------------

    @cached_property
    def html_csp(self) -> dict[str, Any]:
        return conf.HARDENING_CSP

    @cached_property
    def report_only(self) -> dict[str, Any]:
        """The report-only policy with ``report-uri`` and ``report-to`` pointing here."""
        policy = dict(conf.HARDENING_CSP_REPORT_ONLY)
        path = self.report_path
        if policy and path:
            policy.setdefault("report-uri", [path])
            policy.setdefault("report-to", [ENDPOINT_NAME])
        return policy

    @cached_property
    def report_path(self) -> str:
        """The path of ``hardening:csp-report`` ("" when ``hardening.urls`` is not mounted)."""
        from django.urls import NoReverseMatch, reverse

        try:
            return reverse("hardening:csp-report")
        except NoReverseMatch:
            return ""

    @cached_property
    def api_csp(self) -> str:
        return build_policy(API_CSP)

    @cached_property
    def permissions_policy(self) -> str:
        return build_permissions_policy(conf.HARDENING_PERMISSIONS_POLICY)

    @cached_property
    def django_csp(self) -> bool:
        return django_csp_middleware_active(list(settings.MIDDLEWARE))

    def clear_cache(self) -> None:
        for name in (
            "html_csp",
            "api_csp",
            "permissions_policy",
            "django_csp",
            "report_only",
            "report_path",
        ):
            self.__dict__.pop(name, None)

    # -- the work ------------------------------------------------------------------

    def _prepare(self, request: HttpRequest) -> None:
        found = state(request)
        if found.csp_nonce is not None:
            return
        # Django 6's CSP middleware (above this one) keeps its nonce in ``_csp_nonce``:
        # wrap the same object, so templates and Django's policy agree on one nonce.
        django_nonce = getattr(request, "_csp_nonce", None) if self.django_csp else None
        found.csp_nonce = LazyNonce(django_nonce)

    def _add_headers(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        api = _is_api(request, response)
        if HEADER not in response:
            if api:
                response[HEADER] = self.api_csp
            elif self.django_csp:
                # Django 6 renders the policy (with its nonce) on the way out; hand it ours
                # unless the view chose one (``csp_override`` sets ``_csp_config`` too).
                if not hasattr(response, "_csp_config"):
                    response._csp_config = self.html_csp  # type: ignore[attr-defined]
            elif self.html_csp:
                nonce = state(request).csp_nonce
                used = nonce is not None and nonce.used
                response[HEADER] = build_policy(self.html_csp, str(nonce) if used else None)
        if not api and self.report_only and REPORT_ONLY not in response:
            self._add_report_only(request, response)
        if self.permissions_policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.permissions_policy
        corp = conf.HARDENING_CROSS_ORIGIN_RESOURCE_POLICY
        if corp and "Cross-Origin-Resource-Policy" not in response:
            response["Cross-Origin-Resource-Policy"] = corp
        coep = conf.HARDENING_CROSS_ORIGIN_EMBEDDER_POLICY
        if coep and _is_html(response) and "Cross-Origin-Embedder-Policy" not in response:
            response["Cross-Origin-Embedder-Policy"] = coep
        if "Cache-Control" not in response and (api or _is_private(request, response)):
            response["Cache-Control"] = "no-store"
        if "X-Permitted-Cross-Domain-Policies" not in response:
            response["X-Permitted-Cross-Domain-Policies"] = "none"
        if state(request).logged_out and "Clear-Site-Data" not in response:
            response["Clear-Site-Data"] = CLEAR_SITE_DATA
        return response

    def _add_report_only(self, request: HttpRequest, response: HttpResponseBase) -> None:
        if self.django_csp:
            # Django 6 renders SECURE_CSP_REPORT_ONLY itself; hand it ours, like _csp_config.
            if not hasattr(response, "_csp_ro_config"):
                response._csp_ro_config = self.report_only  # type: ignore[attr-defined]
        else:
            nonce = state(request).csp_nonce
            used = nonce is not None and nonce.used
            response[REPORT_ONLY] = build_policy(self.report_only, str(nonce) if used else None)
        if self.report_path and "Reporting-Endpoints" not in response:
            response["Reporting-Endpoints"] = f'{ENDPOINT_NAME}="{self.report_path}"'


@receiver(user_logged_out)
def _mark_logout(*, request: HttpRequest | None = None, **kwargs: Any) -> None:
    if request is not None:
        state(request).logged_out = True


def _content_type(response: HttpResponseBase) -> str:
    return str(response.get("Content-Type", "")).split(";")[0].strip().lower()


def _is_html(response: HttpResponseBase) -> bool:
    return _content_type(response) in ("text/html", "application/xhtml+xml")


def _is_api(request: HttpRequest, response: HttpResponseBase) -> bool:
    if api_path(request.path):
        return True
    content_type = _content_type(response)
    return content_type == "application/json" or content_type.endswith("+json")


def _is_private(request: HttpRequest, response: HttpResponseBase) -> bool:
    if request.path.startswith(NO_STORE_PREFIXES):
        return True  # (API paths are answered no-store by _is_api already)
    if response.cookies or "HTTP_AUTHORIZATION" in request.META:
        return True
    user = request.__dict__.get("user")
    # Only a user that was already loaded: never query the database here.
    wrapped = getattr(user, "_wrapped", user)
    return bool(getattr(wrapped, "is_authenticated", False) is True)


@receiver(setting_changed)
def _clear_caches(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith(("HARDENING_", "SECURE_CSP", "MIDDLEWARE")):
        for instance in list(_INSTANCES):
            instance.clear_cache()
