"""The network a client address is counted by (the address itself comes from
:mod:`hardening.clientip`)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from hardening.clientip import normalise
from hardening.conf import conf


def masked_ip(ip: str) -> str:
    """The network address the limits count by: IPv6 /64 and IPv4 /32 by default, as in
    django-ratelimit (``RATELIMIT_IPV4_MASK`` / ``RATELIMIT_IPV6_MASK``).  An IPv4-mapped
    address is masked as the IPv4 address it is."""
    if not ip:
        return ""
    ip = normalise(ip) or ip
    mask = conf.HARDENING_RATELIMIT_IPV6_MASK if ":" in ip else conf.HARDENING_RATELIMIT_IPV4_MASK
    return _network(ip, mask)


@lru_cache(maxsize=1024)  # pure; bounded
def _network(ip: str, mask: int) -> str:
    return str(ipaddress.ip_network(f"{ip}/{mask}", strict=False).network_address)
