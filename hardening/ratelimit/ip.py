"""The client IP address used for rate limits, bans and audit events.

``REMOTE_ADDR`` unless ``HARDENING_RATELIMIT_TRUSTED_PROXY_COUNT`` says how many reverse
proxies you run: then the address is taken from ``HARDENING_RATELIMIT_CLIENT_IP_HEADER``
(default ``X-Forwarded-For``), counting that many entries from the right, because each
proxy appends the address it received the request from and only those entries are
trustworthy.  With ``HARDENING_RATELIMIT_TRUSTED_PROXIES`` the header is only read when
``REMOTE_ADDR`` is one of those networks.  Anything unusable falls back to ``REMOTE_ADDR``.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest

from hardening.conf import conf

__all__ = ["client_ip", "header_meta_key", "masked_ip", "trusted_networks"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def header_meta_key(header: str) -> str:
    """``X-Forwarded-For`` -> ``HTTP_X_FORWARDED_FOR`` (META keys are accepted as is)."""
    header = header.strip()
    if header.startswith("HTTP_") or header == "REMOTE_ADDR":
        return header
    return "HTTP_" + header.upper().replace("-", "_")


@lru_cache(maxsize=1)
def trusted_networks() -> tuple[Network, ...]:
    """The parsed HARDENING_RATELIMIT_TRUSTED_PROXIES (invalid entries are hardening.E302)."""
    networks: list[Network] = []
    for entry in conf.HARDENING_RATELIMIT_TRUSTED_PROXIES:
        try:
            networks.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError:
            continue
    return tuple(networks)


@receiver(setting_changed)
def _clear(*, setting: str, **kwargs: object) -> None:
    if setting == "HARDENING_RATELIMIT_TRUSTED_PROXIES":
        trusted_networks.cache_clear()


@lru_cache(maxsize=1024)  # pure; bounded, so spoofed headers cannot grow it
def _valid(ip: str) -> str | None:
    try:
        return str(ipaddress.ip_address(ip.strip().strip("[]")))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The client address (not masked); ``""`` when even REMOTE_ADDR is unusable."""
    remote = _valid(str(request.META.get("REMOTE_ADDR") or "")) or ""
    count = conf.HARDENING_RATELIMIT_TRUSTED_PROXY_COUNT
    if count <= 0 or not remote:
        return remote
    networks = trusted_networks()
    if networks:
        address = ipaddress.ip_address(remote)
        if not any(address in network for network in networks):
            return remote
    raw = str(request.META.get(header_meta_key(conf.HARDENING_RATELIMIT_CLIENT_IP_HEADER), ""))
    hops = [hop.strip() for hop in raw.split(",") if hop.strip()]
    if len(hops) < count:
        return remote
    return _valid(hops[-count]) or remote


def masked_ip(ip: str) -> str:
    """The network address the limits count by: IPv6 /64 and IPv4 /32 by default, as in
    django-ratelimit (``RATELIMIT_IPV4_MASK`` / ``RATELIMIT_IPV6_MASK``)."""
    if not ip:
        return ""
    mask = conf.HARDENING_RATELIMIT_IPV6_MASK if ":" in ip else conf.HARDENING_RATELIMIT_IPV4_MASK
    return _network(ip, mask)


@lru_cache(maxsize=1024)  # pure; bounded
def _network(ip: str, mask: int) -> str:
    return str(ipaddress.ip_network(f"{ip}/{mask}", strict=False).network_address)
