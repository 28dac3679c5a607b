"""Checks of host names, origins and proxies: ``ALLOWED_HOSTS`` and ``CSRF_TRUSTED_ORIGINS``
against the Public Suffix List (``E028``, ``E029``), and the client-IP settings of
:mod:`hardening.clientip` (``E301``–``E303``, ``W300``).

``ALLOWED_HOSTS = [".com"]`` accepts every ``.com`` site's name as ours, and
``CSRF_TRUSTED_ORIGINS = ["https://*.github.io"]`` trusts every GitHub Pages site to post
forms.  Which names are public suffixes comes from the Public Suffix List shipped inside the
``publicsuffixlist`` package (offline: it never fetches anything at run time).  Without it
(a vendored install), a bare single label such as ``com`` and a short list of common
two-label suffixes are treated as public (docs/checks.md).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage

from hardening.checks import problem, register, warning
from hardening.conf import conf
from hardening.conf.core import CoreSettings

#: Used only when ``publicsuffixlist`` is not installed.
FALLBACK_SUFFIXES = frozenset(
    {
        "co.uk",
        "org.uk",
        "ac.uk",
        "gov.uk",
        "com.au",
        "net.au",
        "org.au",
        "co.jp",
        "co.nz",
        "com.br",
        "com.cn",
        "co.in",
        "co.za",
        "github.io",
        "herokuapp.com",
        "vercel.app",
        "netlify.app",
        "pages.dev",
        "workers.dev",
        "azurewebsites.net",
        "cloudfront.net",
        "appspot.com",
        "web.app",
        "firebaseapp.com",
        "onrender.com",
        "fly.dev",
        "up.railway.app",
    }
)
_LOCAL = frozenset({"localhost", "testserver"})


@lru_cache(maxsize=1)
def _psl() -> Any:
    try:
        from publicsuffixlist import PublicSuffixList
    except ImportError:  # pragma: no cover - the fallback is tested by patching this out
        return None
    return PublicSuffixList()  # the bundled copy of the list: no network


def is_public_suffix(name: str) -> bool:
    """Is ``name`` (``com``, ``co.uk``, ``github.io``) a public suffix, i.e. shared by
    unrelated sites?  IP addresses and ``localhost`` are not."""
    name = name.strip().strip(".").lower()
    if not name or name in _LOCAL:
        return False
    try:
        ipaddress.ip_address(name.strip("[]"))
        return False
    except ValueError:
        pass
    psl = _psl()
    if psl is None:
        return "." not in name or name in FALLBACK_SUFFIXES
    return bool(psl.is_public(name))


def _without_port(host: str) -> str:
    """``host`` without a ``:port``; an IPv6 literal keeps its brackets (``[::1]:8000``)."""
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.split(":")[0]


@register
def check_allowed_host_suffixes(**kwargs: Any) -> list[CheckMessage]:
    bad = [
        str(host)
        for host in getattr(settings, "ALLOWED_HOSTS", []) or []
        if str(host) != "*" and is_public_suffix(_without_port(str(host)).lstrip("*"))
    ]
    return [
        problem(
            "E028",
            f"ALLOWED_HOSTS entry {host!r} is a public suffix: every site under it matches.",
            "List your own host names (api.example.com), or a wildcard under a domain you own "
            "(.example.com).",
        )
        for host in bad
    ]


def _origin_problem(origin: str) -> str | None:
    parts = urlsplit(origin)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" and host not in ("localhost", "127.0.0.1", "::1"):
        return "is not https://: a network attacker can forge requests from it"
    if host.startswith("*") or origin.split("//", 1)[-1].startswith("*"):
        suffix = origin.split("//", 1)[-1].lstrip("*.").split(":")[0].split("/")[0]
        if not suffix or is_public_suffix(suffix):
            return "is a wildcard over a public suffix: unrelated sites can post forms"
    return None


@register
def check_csrf_trusted_origins(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for origin in getattr(settings, "CSRF_TRUSTED_ORIGINS", []) or []:
        why = _origin_problem(str(origin))
        if why:
            messages.append(
                problem(
                    "E029",
                    f"CSRF_TRUSTED_ORIGINS entry {origin!r} {why}.",
                    "Trust only https:// origins you control, e.g. https://app.example.com or "
                    "https://*.example.com.",
                )
            )
    return messages


@register
def check_trusted_proxies(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    count = conf.HARDENING_TRUSTED_PROXY_COUNT
    if CoreSettings.HARDENING_TRUSTED_PROXY_COUNT.problem() is not None:
        messages.append(
            problem(
                "E301",
                "HARDENING_TRUSTED_PROXY_COUNT is not a non-negative integer.",
                "Set it to the number of reverse proxies in front of the app (0: none).",
            )
        )
    networks = conf.HARDENING_TRUSTED_PROXIES
    for entry in networks:
        try:
            ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            messages.append(
                problem(
                    "E302",
                    f"HARDENING_TRUSTED_PROXIES entry {entry[:50]!r} is not a network.",
                    "Use addresses or CIDR networks such as '10.0.0.0/8'.",
                )
            )
    header = conf.HARDENING_CLIENT_IP_HEADER.strip()
    if count > 0 and (not header or not all(c.isalnum() or c in "-_" for c in header)):
        messages.append(
            problem(
                "E303",
                "HARDENING_CLIENT_IP_HEADER is empty or not a header name.",
                "Name the header your proxy writes, e.g. 'X-Forwarded-For' or 'X-Real-IP'.",
            )
        )
    if count > 0 and not networks:
        messages.append(
            warning(
                "W300",
                "The client-IP header is trusted from any peer.",
                "Clients that reach the app directly can spoof their IP; set "
                "HARDENING_TRUSTED_PROXIES to your proxies' networks.",
            )
        )
    if count == 0 and networks:
        messages.append(
            warning(
                "W301",
                "HARDENING_TRUSTED_PROXIES has no effect without a proxy count.",
                "Set HARDENING_TRUSTED_PROXY_COUNT to the number of proxies.",
            )
        )
    return messages
