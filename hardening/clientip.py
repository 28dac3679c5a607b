"""The client address, resolved once per request by the first hardening middleware and
read by every room through ``request.hardening.client_ip`` (rate limits, bans, lockout, the
MFA throttle, audit events, the operator gate).

``REMOTE_ADDR`` unless ``HARDENING_TRUSTED_PROXY_COUNT`` says how many reverse proxies you
run: then the address is taken from ``HARDENING_CLIENT_IP_HEADER`` (default
``X-Forwarded-For``; ``Forwarded`` parses RFC 7239 ``for=``), counting that many entries from
the right, because each proxy appends the address it received the request from and only
those entries are trustworthy.  With ``HARDENING_TRUSTED_PROXIES`` the header is only read
when ``REMOTE_ADDR`` is one of those networks.

Every address is normalised: an IPv4-mapped IPv6 address (``::ffff:192.0.2.1``, what a
dual-stack ``[::]`` bind reports) becomes its IPv4 address, so IPv4 clients are never masked
together into the ``::/64``; ports (``192.0.2.1:4431``, ``[2001:db8::1]:443``), brackets,
quotes and zone ids are dropped.  A forwarded entry that is not an address (garbage, RFC
7239 ``unknown`` or an obfuscated ``_name``), or a header that is missing or shorter than
the proxy count, falls back to ``REMOTE_ADDR`` and is logged (WARNING, with the request id)
and counted (``hardening_client_ip_unparsed_total{reason}``): distinct clients never
silently share the proxy's bucket.
"""

from __future__ import annotations

import ipaddress
import logging
from functools import lru_cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest

from hardening.conf import conf
from hardening.context import current_request_id
from hardening.observability.metrics import CLIENT_IP_UNPARSED

logger = logging.getLogger("hardening.clientip")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def header_meta_key(header: str) -> str:
    """``X-Forwarded-For`` -> ``HTTP_X_FORWARDED_FOR`` (META keys are accepted as is)."""
    header = header.strip()
    if header.startswith("HTTP_") or header == "REMOTE_ADDR":
        return header
    return "HTTP_" + header.upper().replace("-", "_")


def network(entry: object) -> Network | None:
    """``entry`` (``"10.0.0.0/8"``, ``" ::1 "``) as a network, or None when it is not one."""
    try:
        return ipaddress.ip_network(str(entry).strip(), strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=32)
def networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """The networks of an allow-list (the trusted proxies, the operator gate); entries that
    are not addresses or networks are skipped: the settings' checks report them."""
    return tuple(found for entry in entries if (found := network(entry)) is not None)


@lru_cache(maxsize=1)
def trusted_networks() -> tuple[Network, ...]:
    """The parsed HARDENING_TRUSTED_PROXIES (invalid entries are reported by hardening.E302)."""
    return networks(tuple(conf.HARDENING_TRUSTED_PROXIES))


def within(address: str, allowed: tuple[Network, ...]) -> bool:
    """Is ``address`` (as :func:`normalise` gives it; ``""`` is nobody) in ``allowed``?"""
    if not address:
        return False
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(parsed in candidate for candidate in allowed)


@receiver(setting_changed)
def _clear(*, setting: str, **kwargs: object) -> None:
    if setting == "HARDENING_TRUSTED_PROXIES":
        trusted_networks.cache_clear()


@lru_cache(maxsize=1024)  # pure; bounded, so spoofed headers cannot grow it
def normalise(entry: str) -> str | None:
    """The address in ``entry`` (``1.2.3.4``, ``1.2.3.4:80``, ``[v6]:443``, ``"[v6]"``,
    ``::ffff:1.2.3.4``) as a canonical string, IPv4 for mapped addresses; None if none."""
    text = entry.strip().strip('"').strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or (text[end + 1 :] and not _is_port(text[end + 1 :])):
            return None
        text = text[1:end]
    elif text.count(":") == 1:  # IPv4 (or a name) with a port; bare IPv6 has 2+ colons
        text, _, port = text.partition(":")
        if not port.isdigit():
            return None
    text = text.split("%", 1)[0]  # zone id (fe80::1%eth0): not part of the client
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def _is_port(rest: str) -> bool:
    return rest.startswith(":") and rest[1:].isascii() and rest[1:].isdigit()


def forwarded_for(value: str) -> list[str]:
    """The ``for=`` value of each element of an RFC 7239 ``Forwarded`` header (``""`` for
    an element without one), left to right."""
    found: list[str] = []
    for element in value.split(","):
        node = ""
        for pair in element.split(";"):
            name, sep, raw = pair.partition("=")
            if sep and name.strip().lower() == "for":
                node = raw.strip()
        found.append(node)
    return found


def _fallback(reason: str, message: str, header: str) -> None:
    """Log (WARNING, with the request id, never the header's text) and count a fallback."""
    CLIENT_IP_UNPARSED.labels(reason=reason).inc()
    logger.warning(
        message,
        header,
        reason,
        extra={"request_id": current_request_id(), "reason": reason},
    )


def _unusable(entry: str, header: str) -> None:
    bare = entry.strip().strip('"')
    if bare.lower() == "unknown":
        reason = "unknown"
    elif bare.startswith("_"):
        reason = "obfuscated"
    else:
        reason = "invalid"
    _fallback(reason, _UNUSABLE, header)


def _unix_peer(raw: str) -> bool:
    """A Unix-socket peer: gunicorn sets ``REMOTE_ADDR=''``, an ASGI server sends no client
    (Django then sets no ``REMOTE_ADDR``), some servers write ``unix:/path``."""
    text = raw.strip()
    return not text or text.startswith(("unix:", "/"))


def client_ip(request: HttpRequest) -> str:
    """The client address (not masked); ``""`` when no address is usable."""
    raw_remote = str(request.META.get("REMOTE_ADDR") or "")
    remote = normalise(raw_remote) or ""
    count = conf.HARDENING_TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    if not remote and not _unix_peer(raw_remote):
        return remote  # an unparseable TCP peer is nobody's proxy
    proxies = trusted_networks()
    # A Unix-socket peer (no address) is the proxy: only a local process reaches it.
    if proxies and remote and not within(remote, proxies):
        return remote
    header = conf.HARDENING_CLIENT_IP_HEADER
    raw = str(request.META.get(header_meta_key(header), ""))
    if header_meta_key(header) == "HTTP_FORWARDED":
        hops = forwarded_for(raw) if raw.strip() else []
    else:
        hops = [hop.strip() for hop in raw.split(",") if hop.strip()]
    if len(hops) < count:
        reason = "short" if hops else "missing"
        _fallback(reason, _SHORT, header)
        return remote
    ip = normalise(hops[-count])
    if ip is None:
        _unusable(hops[-count], header)
        return remote
    return ip


_UNUSABLE = "The %s entry is not a client address (%s): rate limits use REMOTE_ADDR."
_SHORT = (
    "The %s header has fewer entries than HARDENING_TRUSTED_PROXY_COUNT (%s): "
    "rate limits use REMOTE_ADDR (a Unix socket: the shared ip:unknown bucket)."
)
