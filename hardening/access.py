"""The operator gate: who may read ``/metrics`` and the detailed health probes.

A caller is an operator when it sends the endpoint's bearer token (``HARDENING_METRICS_TOKEN``,
``HARDENING_HEALTH_TOKEN``), or when its address is in ``HARDENING_OPERATOR_IPS`` (default:
loopback for an endpoint without a token, nobody for an endpoint with one).

The address is ``request.hardening.client_ip`` (:mod:`hardening.clientip`): ``REMOTE_ADDR``,
unless ``HARDENING_TRUSTED_PROXY_COUNT`` says reverse proxies are in front, and then the
address those proxies received the request from.  A header sent by a peer that is not a
configured proxy is never believed, so ``X-Forwarded-For: 127.0.0.1`` admits nobody; and
behind a configured proxy on the same host, "loopback" means the host itself, not every
request the proxy forwards.

Internal: used by :mod:`hardening.observability.views` and :mod:`hardening.health.views`.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence

from django.core.checks import CheckMessage
from django.http import HttpRequest

from hardening.clientip import Network, network, networks, normalise, within
from hardening.observability.conf import conf
from hardening.request import state

#: Shortest operator token the system checks accept (``E504``, ``E607``).
MIN_TOKEN_LENGTH = 32
#: Who may see an endpoint without a token when ``HARDENING_OPERATOR_IPS`` is not set.
LOOPBACK = ("127.0.0.1", "::1")


def bearer_token(request: HttpRequest) -> str | None:
    """The credentials of an ``Authorization: Bearer …`` header (scheme case-insensitive)."""
    scheme, _, supplied = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    supplied = supplied.strip()
    return supplied if scheme.lower() == "bearer" and supplied else None


def token_matches(supplied: str, expected: str) -> bool:
    """Constant-time comparison; an empty expected token never matches."""
    return bool(expected) and hmac.compare_digest(supplied.encode(), expected.encode())


def operator_ips(token: str) -> list[str]:
    """``HARDENING_OPERATOR_IPS``, or its default for an endpoint whose token is ``token``.

    An unusable value (``hardening.E605``) is the default too: loopback at most."""
    configured = conf.HARDENING_OPERATOR_IPS
    if configured is not None:
        return configured
    return [] if token else list(LOOPBACK)


def ip_allowed(address: object, allowed: Sequence[str]) -> bool:
    """Is ``address`` inside one of the ``allowed`` networks?  Entries that are not
    networks are skipped; IPv4-mapped IPv6 addresses match their IPv4 networks."""
    return within(normalise(str(address or "")) or "", networks(tuple(allowed)))


def operator_address(request: HttpRequest, token: str) -> bool:
    """Is the client's address an operator's, for an endpoint whose token is ``token``?"""
    return ip_allowed(state(request).client_ip, operator_ips(token))


def check_allow_list(allowed: Sequence[object]) -> tuple[list[object], list[object]]:
    """For system checks: the entries of ``allowed`` that are not addresses or networks,
    and those that admit every address (``0.0.0.0/0``, ``::/0``)."""
    parsed: list[tuple[object, Network | None]] = [(entry, network(entry)) for entry in allowed]
    invalid = [entry for entry, found in parsed if found is None]
    everyone = [entry for entry, found in parsed if found is not None and found.prefixlen == 0]
    return invalid, everyone


def token_checks(
    setting: str, token: str, short: str, others: Mapping[str, str]
) -> list[CheckMessage]:
    """The system checks of one operator token: ``short`` (the room's id) when it has fewer
    than :data:`MIN_TOKEN_LENGTH` characters, ``E049`` when it is another secret (the
    project's keys, or one of ``others``), ``E050`` when it is guessable."""
    from hardening.checks import problem

    if not token:
        return []
    messages = []
    if len(token) < MIN_TOKEN_LENGTH:  # characters: never more than its bytes
        messages.append(
            problem(short, f"{setting} is shorter than {MIN_TOKEN_LENGTH} characters.", _GENERATE)
        )
    return messages + _token_strength(setting, token, {**_secrets(), **others})


_GENERATE = "Generate one: python -c 'import secrets; print(secrets.token_urlsafe(32))'."  # noqa: S105 - a hint, not a secret


def _secrets() -> dict[str, str]:
    """The project's keys an operator token must not repeat."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    from hardening.conf import conf as core
    from hardening.jwt.conf import conf as jwt
    from hardening.jwt.issuers import configured as issuers

    try:
        secret_key = str(settings.SECRET_KEY or "")
    except ImproperlyConfigured:  # Django refuses access to an empty SECRET_KEY
        secret_key = ""
    found = {
        "SECRET_KEY": secret_key,
        "HARDENING_JWT_SIGNING_KEY": jwt.HARDENING_JWT_SIGNING_KEY,
    }
    for issuer in issuers():
        if issuer.secret_key:
            found[f"HARDENING_JWT_ISSUERS[{issuer.label!r}]['secret_key']"] = issuer.secret_key
    for index, key in enumerate(getattr(settings, "SECRET_KEY_FALLBACKS", []) or []):
        found[f"SECRET_KEY_FALLBACKS[{index}]"] = str(key)
    for index, key in enumerate(core.HARDENING_FIELD_ENCRYPTION_KEYS):
        found[f"HARDENING_FIELD_ENCRYPTION_KEYS[{index}]"] = str(key)
    from hardening.apikeys.conf import conf as apikeys

    found["HARDENING_API_KEY_HASH_KEY"] = apikeys.HARDENING_API_KEY_HASH_KEY
    return found


def _token_strength(setting: str, token: str, others: Mapping[str, str]) -> list[CheckMessage]:
    """``E049``: the token is another secret; ``E050``: it is guessable."""
    from hardening.checks import problem
    from hardening.deploy.strength import MIN_SECRET_BITS, estimated_bits, is_published

    messages = [
        problem(
            "E049",
            f"{setting} is the same as {other}.",
            "Each secret must be dedicated: whoever reads the probe or scraper configuration "
            "must not learn a signing key. " + _GENERATE,
        )
        for other, value in others.items()
        if value and other != setting and hmac.compare_digest(value.encode(), token.encode())
    ]
    if is_published(token) or estimated_bits(token) < MIN_SECRET_BITS:
        messages.append(
            problem(
                "E050",
                f"{setting} is guessable (estimated entropy under {MIN_SECRET_BITS} bits).",
                _GENERATE,
            )
        )
    return messages
