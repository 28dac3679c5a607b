"""Checks of host names and origins against the Public Suffix List (``E028``, ``E029``).

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

from hardening.checks import problem

__all__ = ["check_allowed_host_suffixes", "check_csrf_trusted_origins", "is_public_suffix"]

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


def check_allowed_host_suffixes(**kwargs: Any) -> list[CheckMessage]:
    bad = [
        str(host)
        for host in getattr(settings, "ALLOWED_HOSTS", []) or []
        if str(host) != "*" and is_public_suffix(str(host).split(":")[0].lstrip("*"))
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
