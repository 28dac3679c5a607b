"""The network a client address is counted by (the address itself comes from
:mod:`hardening.clientip`)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from hardening.clientip import normalise

#: Prefix length an IPv4 client is counted by: the address itself, as in django-ratelimit.
IPV4_MASK = 32
#: Prefix length an IPv6 client is counted by: one subscriber usually owns a whole /64.
IPV6_MASK = 64


def masked_ip(ip: str) -> str:
    """The network address the limits count by: IPv6 /64 and IPv4 /32, as django-ratelimit
    does by default.  An IPv4-mapped address is masked as the IPv4 address it is."""
    if not ip:
        return ""
    ip = normalise(ip) or ip
    return _network(ip, IPV6_MASK if ":" in ip else IPV4_MASK)


@lru_cache(maxsize=1024)  # pure; bounded
def _network(ip: str, mask: int) -> str:
    return str(ipaddress.ip_network(f"{ip}/{mask}", strict=False).network_address)
