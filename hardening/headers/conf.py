"""Settings of the security headers (``hardening.headers``).

What almost nobody changes is a constant: the API's Content-Security-Policy
(:data:`hardening.headers.csp.API_CSP`), ``Clear-Site-Data`` on logout and the paths answered
``no-store`` besides the API (:data:`hardening.headers.middleware.CLEAR_SITE_DATA`,
``NO_STORE_PREFIXES``).  Which paths are the API is the core ``HARDENING_API_PATHS``.  A
value that does not parse falls back to its default and is reported by
:mod:`hardening.headers.checks` (``E614``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from hardening.conf import parse
from hardening.conf.base import Reader, setting
from hardening.headers.csp import DEFAULT_CSP
from hardening.headers.policies import DEFAULT_PERMISSIONS_POLICY

CORP = ("same-origin", "same-site", "cross-origin")
COEP = ("require-corp", "credentialless", "unsafe-none")


def csp(value: Any) -> dict[str, Any]:
    """A policy in the format of Django 6's ``SECURE_CSP``: ``{directive: sources}``."""
    policy = parse.mapping(value)
    for directive, sources in policy.items():
        if sources is None or isinstance(sources, bool | str):
            continue
        if not isinstance(sources, list | tuple | set | frozenset) or not all(
            isinstance(source, str) for source in sources
        ):
            raise ValueError(f"{directive!r}: expected a list of sources, True or None")
    return policy


def permissions_policy(value: Any) -> dict[str, list[str]]:
    """``{feature: [allowlist]}``; ``[]`` turns a feature off."""
    policy = parse.mapping(value)
    return {feature: parse.strings(allow) for feature, allow in policy.items()}


def _one_of(allowed: tuple[str, ...]) -> Any:
    def parse_value(value: Any) -> str:
        if value is None or value == "":
            return ""  # off
        if value not in allowed:
            choices = ", ".join(map(repr, allowed))
            raise ValueError(f"expected one of {choices} or '', got {value!r}")
        return str(value)

    return parse_value


def _default_csp(reader: object) -> dict[str, Any]:
    configured = getattr(settings, "SECURE_CSP", None)
    try:
        return csp(configured) if configured else dict(DEFAULT_CSP)
    except (TypeError, ValueError):  # SECURE_CSP is Django's to validate
        return dict(DEFAULT_CSP)


def _default_report_only(reader: object) -> dict[str, Any]:
    configured = getattr(settings, "SECURE_CSP_REPORT_ONLY", None)
    try:
        return csp(configured) if configured else {}
    except (TypeError, ValueError):
        return {}


class Settings(Reader):
    removed = {
        "HARDENING_CSP_API": "nothing: API responses get hardening.headers.csp.API_CSP",
        "HARDENING_CLEAR_SITE_DATA": (
            "nothing: logout sends hardening.headers.middleware.CLEAR_SITE_DATA"
        ),
        "HARDENING_API_PATH_PREFIXES": "HARDENING_API_PATHS",
        "HARDENING_NO_STORE_PATH_PREFIXES": (
            "HARDENING_API_PATHS (no-store also covers /account/, /accounts/ and /admin/)"
        ),
    }

    HARDENING_CSP = setting(
        _default_csp,
        csp,
        "Content-Security-Policy of HTML responses (Django 6 ``SECURE_CSP`` format; default "
        "``SECURE_CSP``, else ``hardening.env.DEFAULT_CSP``).",
    )
    HARDENING_CSP_REPORT_ONLY = setting(
        _default_report_only,
        csp,
        "``Content-Security-Policy-Report-Only`` of HTML responses, beside (or, with "
        "``HARDENING_CSP = {}``, instead of) the enforced policy; reports go to "
        "``/csp-report`` (default ``SECURE_CSP_REPORT_ONLY``, else off).",
    )
    HARDENING_PERMISSIONS_POLICY = setting(
        dict(DEFAULT_PERMISSIONS_POLICY),
        permissions_policy,
        "``{feature: [allowlist]}``; ``[]`` disables the feature (the default for all).",
    )
    HARDENING_CROSS_ORIGIN_RESOURCE_POLICY = setting(
        "same-origin",
        _one_of(CORP),
        "``Cross-Origin-Resource-Policy`` of every response; ``''`` turns it off.",
    )
    HARDENING_CROSS_ORIGIN_EMBEDDER_POLICY = setting(
        "require-corp",
        _one_of(COEP),
        "``Cross-Origin-Embedder-Policy`` of HTML responses; ``''`` turns it off (needed for "
        "cross-origin embeds without CORP/CORS headers).",
    )


conf = Settings()
