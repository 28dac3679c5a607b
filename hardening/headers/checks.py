"""Every security-header check: the headers Django's ``SecurityMiddleware`` sends
(``E019`` nosniff, ``E020`` referrer policy, ``E021`` COOP) and the ones
``SecurityHeadersMiddleware`` adds (``E608`` the middleware, ``E609``–``W611`` the
Content-Security-Policy, ``E614`` an unusable header setting).  HSTS, the HTTPS redirect and
``X-Frame-Options`` are checked with the other deployment settings
(:mod:`hardening.deploy.settings`); the middleware's place is ``E033``'s."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage

from hardening.checks import problem, register, warning
from hardening.conf.core import middleware as installed_middleware
from hardening.headers import interplay
from hardening.headers.conf import conf

ROOM = (interplay,)  # its checks register themselves

HEADERS = "hardening.middleware.SecurityHeadersMiddleware"
_UNSAFE = ("'unsafe-inline'", "'unsafe-eval'", "*", "data:", "http:", "https:")
_UNSAFE_REFERRER_POLICIES = {"unsafe-url", "no-referrer-when-downgrade", ""}


@register
def check_security_headers(**kwargs: Any) -> list[CheckMessage]:
    """The headers of Django's ``SecurityMiddleware`` (``security_settings()`` sets them)."""
    messages: list[CheckMessage] = []
    if not settings.SECURE_CONTENT_TYPE_NOSNIFF:
        messages.append(
            problem(
                "E019",
                "SECURE_CONTENT_TYPE_NOSNIFF is off.",
                "Set SECURE_CONTENT_TYPE_NOSNIFF = True.",
            )
        )
    policy: object = settings.SECURE_REFERRER_POLICY
    if isinstance(policy, str):
        policies = {policy}
    elif isinstance(policy, (list, tuple, set)):
        policies = {str(p) for p in policy} or {""}
    else:
        policies = {""}
    if {str(p).strip() for p in policies} & _UNSAFE_REFERRER_POLICIES:
        messages.append(
            problem(
                "E020",
                "SECURE_REFERRER_POLICY is unset or leaks full URLs.",
                "Set SECURE_REFERRER_POLICY = 'strict-origin-when-cross-origin' or stricter.",
            )
        )
    if not getattr(settings, "SECURE_CROSS_ORIGIN_OPENER_POLICY", None):
        messages.append(
            problem(
                "E021",
                "SECURE_CROSS_ORIGIN_OPENER_POLICY is unset.",
                "Set SECURE_CROSS_ORIGIN_OPENER_POLICY = 'same-origin'.",
            )
        )
    return messages


@register
def check_security_headers_middleware(**kwargs: Any) -> list[CheckMessage]:
    if HEADERS in installed_middleware():
        return []
    return [
        problem(
            "E608",
            "SecurityHeadersMiddleware is not in MIDDLEWARE.",
            f"Add {HEADERS!r} after SecurityMiddleware: it sends CSP, Permissions-Policy and CORP.",
        )
    ]


@register
def check_header_settings(**kwargs: Any) -> list[CheckMessage]:
    """A header setting whose value cannot be used (its default is sent meanwhile)."""
    return [
        problem(
            "E614",
            f"{name} is unusable ({why}); its default is sent."[:200],
            "See docs/headers.md for the values it takes.",
        )
        for name, why in conf.problems()
    ]


def _csp_in_use() -> dict[str, Any]:
    # SecurityHeadersMiddleware sends HARDENING_CSP (default SECURE_CSP) itself, or hands
    # it to Django 6's CSP middleware; Django's alone sends SECURE_CSP.
    if HEADERS in installed_middleware():
        return conf.HARDENING_CSP
    return dict(getattr(settings, "SECURE_CSP", None) or {})


@register
def check_csp(**kwargs: Any) -> list[CheckMessage]:
    if HEADERS not in installed_middleware() and "django.middleware.csp" not in str(
        settings.MIDDLEWARE
    ):
        return []  # E608 already says it
    policy = _csp_in_use()
    if not policy:
        return [
            problem(
                "E609",
                "No Content-Security-Policy is sent on HTML pages.",
                "Set SECURE_CSP (or HARDENING_CSP); hardening.env.DEFAULT_CSP is a strict start.",
            )
        ]
    messages: list[CheckMessage] = []
    risky = sorted(
        {
            str(source)
            for directive in ("default-src", "script-src", "object-src")
            for source in _sources(policy.get(directive))
            if str(source) in _UNSAFE
        }
    )
    if risky:
        messages.append(
            warning(
                "W610",
                f"The Content-Security-Policy allows {', '.join(risky)} for scripts.",
                "Use nonces (hardening.headers.csp.NONCE) instead of unsafe sources.",
            )
        )
    if "frame-ancestors" not in policy:
        messages.append(
            warning(
                "W611",
                "The Content-Security-Policy has no frame-ancestors directive.",
                "Add 'frame-ancestors': [NONE] (or the origins that may frame the site).",
            )
        )
    return messages


def _sources(value: Any) -> list[Any]:
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


@register
def check_csp_reports(**kwargs: Any) -> list[CheckMessage]:
    """A report-only policy whose reports have nowhere to go."""
    if not conf.HARDENING_CSP_REPORT_ONLY or HEADERS not in installed_middleware():
        return []
    from django.urls import NoReverseMatch, reverse

    try:
        reverse("hardening:csp-report")
    except NoReverseMatch:
        return [
            warning(
                "W621",
                "HARDENING_CSP_REPORT_ONLY is set but /csp-report is not mounted.",
                "Include hardening.urls (or the policy's own report-uri): else no report arrives.",
            )
        ]
    return []
