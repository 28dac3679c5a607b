"""Who may see operator endpoints (``/metrics``, health details): a bearer token or an
IP allow-list.  Shared by ``hardening.observability.views`` and ``hardening.health.views``."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from django.core.checks import CheckMessage
from django.http import HttpRequest

__all__ = [
    "MIN_TOKEN_LENGTH",
    "bearer_token",
    "check_allow_list",
    "gate_checks",
    "ip_allowed",
    "token_matches",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Shortest operator token the system checks accept (``E504``, ``E607``).
MIN_TOKEN_LENGTH = 32


def _parse(entry: object) -> Network | None:
    try:
        return ipaddress.ip_network(str(entry).strip(), strict=False)
    except ValueError:
        return None


def bearer_token(request: HttpRequest) -> str | None:
    """The credentials of an ``Authorization: Bearer …`` header (scheme case-insensitive)."""
    scheme, _, supplied = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    supplied = supplied.strip()
    return supplied if scheme.lower() == "bearer" and supplied else None


def token_matches(supplied: str, expected: str) -> bool:
    """Constant-time comparison; an empty expected token never matches."""
    return bool(expected) and hmac.compare_digest(supplied.encode(), expected.encode())


@lru_cache(maxsize=32)
def _networks(entries: tuple[str, ...], strict: bool) -> tuple[Network, ...]:
    networks: list[Network] = []
    for entry in entries:
        network = _parse(entry)
        if network is not None:
            networks.append(network)
        elif strict:
            return ()  # one bad entry denies everyone until it is fixed
    return tuple(networks)


def check_allow_list(allowed: Sequence[object]) -> tuple[list[object], list[object]]:
    """For system checks: the entries of ``allowed`` that are not addresses or networks,
    and those that admit every address (``0.0.0.0/0``, ``::/0``)."""
    invalid: list[object] = []
    everyone: list[object] = []
    for entry in allowed:
        network = _parse(entry)
        if network is None:
            invalid.append(entry)
        elif network.prefixlen == 0:
            everyone.append(entry)
    return invalid, everyone


def gate_checks(
    name: str,
    allowed: Sequence[object],
    token: str,
    *,
    ids: tuple[str, str, str],
    everyone: tuple[str, str] | None,
) -> list[CheckMessage]:
    """The system checks of one operator gate (``HARDENING_<name>_ALLOWED_IPS`` and
    ``HARDENING_<name>_TOKEN``).

    ``ids`` are the invalid-entry error, the open-to-everyone warning and the short-token
    error; ``everyone`` is that warning's message (``{entry}`` is filled in) and hint, or
    ``None`` not to warn.
    """
    from hardening.checks import problem, warning

    setting = f"HARDENING_{name}_ALLOWED_IPS"
    invalid, open_entries = check_allow_list(allowed)
    messages = [
        problem(
            ids[0],
            f"{setting} has an invalid entry {entry!r}.",
            "Use addresses or networks such as '10.0.0.0/8' or '::1'.",
        )
        for entry in invalid
    ]
    if everyone is not None:
        msg, hint = everyone
        messages += [warning(ids[1], msg.format(entry=entry), hint) for entry in open_entries]
    if token and len(token) < MIN_TOKEN_LENGTH:  # characters: never more than its bytes
        messages.append(
            problem(
                ids[2],
                f"HARDENING_{name}_TOKEN is shorter than {MIN_TOKEN_LENGTH} characters.",
                _GENERATE,
            )
        )
    return messages + _token_strength(name, token) if token else messages


_GENERATE = "Generate one: python -c 'import secrets; print(secrets.token_urlsafe(32))'."  # noqa: S105 - a hint, not a secret


def _other_secrets(name: str) -> dict[str, str]:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    from hardening.conf import conf
    from hardening.jwt.conf import conf as jwt
    from hardening.jwt.issuers import configured as issuers

    try:
        secret_key = str(settings.SECRET_KEY or "")
    except ImproperlyConfigured:  # Django refuses access to an empty SECRET_KEY
        secret_key = ""
    others = {
        "SECRET_KEY": secret_key,
        "HARDENING_JWT_SIGNING_KEY": jwt.HARDENING_JWT_SIGNING_KEY,
        "HARDENING_HEALTH_TOKEN": conf.HARDENING_HEALTH_TOKEN,
        "HARDENING_METRICS_TOKEN": conf.HARDENING_METRICS_TOKEN,
    }
    for issuer in issuers():
        if issuer.secret_key:
            others[f"HARDENING_JWT_ISSUERS[{issuer.label!r}]['secret_key']"] = issuer.secret_key
    for index, key in enumerate(getattr(settings, "SECRET_KEY_FALLBACKS", []) or []):
        others[f"SECRET_KEY_FALLBACKS[{index}]"] = str(key)
    for index, key in enumerate(conf.HARDENING_FIELD_ENCRYPTION_KEYS):
        others[f"HARDENING_FIELD_ENCRYPTION_KEYS[{index}]"] = str(key)
    others.pop(f"HARDENING_{name}_TOKEN")
    return others


def _token_strength(name: str, token: str) -> list[CheckMessage]:
    """``E049``: the token is another secret; ``E050``: it is guessable."""
    from hardening.checks import problem
    from hardening.deploy.strength import MIN_SECRET_BITS, estimated_bits, is_published

    setting = f"HARDENING_{name}_TOKEN"
    messages = [
        problem(
            "E049",
            f"{setting} is the same as {other}.",
            "Each secret must be dedicated: whoever reads the probe or scraper configuration "
            "must not learn a signing key. " + _GENERATE,
        )
        for other, value in _other_secrets(name).items()
        if value and hmac.compare_digest(value.encode(), token.encode())
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


def ip_allowed(remote_addr: object, allowed: Sequence[str], *, strict: bool = False) -> bool:
    """Is ``remote_addr`` (``REMOTE_ADDR``) inside one of the ``allowed`` networks?

    Invalid entries are skipped, or with ``strict=True`` deny every address; either way a
    system check reports them.  IPv4-mapped IPv6 addresses match their IPv4 networks.
    """
    try:
        address = ipaddress.ip_address(str(remote_addr or "").split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in _networks(tuple(allowed), strict))
