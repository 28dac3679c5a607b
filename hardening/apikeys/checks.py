"""System checks of API keys (``E8xx`` / ``W8xx``).

* ``E801``: ``HARDENING_API_KEY_HASH_KEY`` is not set in production (every key is refused).
* ``E802``: it is shorter than 32 characters, or guessable.
* ``E803``: it is the value of another secret (``SECRET_KEY``, a JWT key, a Fernet key...).
* ``E804``: ``HARDENING_API_KEY_PREFIX`` is not 2-16 lowercase letters or digits.
* ``W801``: views demand scopes (``HasScope``, ``HasAnyScope``) but no credential that carries
  scopes is accepted (no ``ApiKeyAuthentication`` in DRF, no issuer in
  ``HARDENING_JWT_ISSUERS``): those views refuse everybody.
"""

from __future__ import annotations

import contextlib
import hmac
from typing import Any

from django.core.checks import CheckMessage

from hardening.apikeys.conf import conf
from hardening.checks import problem, register, warning
from hardening.conf import conf as core

#: Shortest hash key accepted (characters).
MIN_HASH_KEY_CHARS = 32
_GENERATE = "Generate one: python -c 'import secrets; print(secrets.token_urlsafe(48))'."


@register
def check_api_keys(**kwargs: Any) -> list[CheckMessage]:
    from hardening.access import _secrets
    from hardening.deploy.strength import MIN_SECRET_BITS, estimated_bits, is_published

    out: list[CheckMessage] = []
    for name, why in conf.problems():
        if name == "HARDENING_API_KEY_PREFIX":
            out.append(
                problem("E804", f"HARDENING_API_KEY_PREFIX is unusable: {why}.", "Use e.g. 'hk'.")
            )
    key = conf.HARDENING_API_KEY_HASH_KEY
    if not key:
        if core.is_production:
            out.append(
                problem(
                    "E801",
                    "HARDENING_API_KEY_HASH_KEY is not set: every API key is refused.",
                    "Set a dedicated random key of 32+ characters. " + _GENERATE,
                )
            )
        return out
    if len(key) < MIN_HASH_KEY_CHARS or is_published(key) or estimated_bits(key) < MIN_SECRET_BITS:
        out.append(
            problem(
                "E802",
                "HARDENING_API_KEY_HASH_KEY is short or guessable.",
                f"Use {MIN_HASH_KEY_CHARS}+ random characters. " + _GENERATE,
            )
        )
    out.extend(
        problem(
            "E803",
            f"HARDENING_API_KEY_HASH_KEY is the same as {other}.",
            "A dedicated key: rotating the other secret must not void every API key.",
        )
        for other, value in {**_secrets(), **_operator_tokens()}.items()
        if value
        and other != "HARDENING_API_KEY_HASH_KEY"
        and hmac.compare_digest(value.encode(), key.encode())
    )
    return out


def _operator_tokens() -> dict[str, str]:
    from hardening.health.conf import conf as health
    from hardening.observability.conf import conf as observability

    return {
        "HARDENING_METRICS_TOKEN": observability.HARDENING_METRICS_TOKEN,
        "HARDENING_HEALTH_TOKEN": health.HARDENING_HEALTH_TOKEN,
    }


API_KEY_CLASS = "hardening.authentication.ApiKeyAuthentication"


@register
def check_scopes_have_a_source(**kwargs: Any) -> list[CheckMessage]:
    from hardening.jwt.conf import conf as jwt
    from hardening.scopes import USED_SCOPES

    _load_urlconf()  # the views' modules make their permission classes on import
    if not USED_SCOPES or jwt.HARDENING_JWT_ISSUERS or _api_keys_accepted():
        return []
    return [
        warning(
            "W801",
            "Views demand scopes, but no accepted credential carries scopes.",
            f"Add {API_KEY_CLASS} to DEFAULT_AUTHENTICATION_CLASSES (rest_framework_settings() "
            "does) or an issuer whose tokens carry 'scope' to HARDENING_JWT_ISSUERS.",
        )
    ]


def _api_keys_accepted() -> bool:
    from django.conf import settings

    drf = getattr(settings, "REST_FRAMEWORK", None) or {}
    classes = drf.get("DEFAULT_AUTHENTICATION_CLASSES", ())
    return any(str(path).rsplit(".", 1)[-1] == "ApiKeyAuthentication" for path in classes)


def _load_urlconf() -> None:
    from django.urls import get_resolver

    # Django's own URL checks report a broken URLconf.
    with contextlib.suppress(Exception):
        get_resolver().url_patterns  # noqa: B018 - imports the URLconf and its views
