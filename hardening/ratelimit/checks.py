"""Rate-limit checks (``E3xx`` / ``W3xx``).  The shared cache is checked with the other
services in :mod:`hardening.deploy.services` (E060, E061, W303, W304); the client address
behind proxies in :mod:`hardening.deploy.hosts` (E301–E303, W300, W301)."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage

from hardening.checks import problem, register
from hardening.conf.core import middleware as installed_middleware
from hardening.ratelimit.conf import conf

MIDDLEWARE = "hardening.middleware.RateLimitMiddleware"

_POLICIES_HINT = "Use dicts like {'name': 'user', 'key': 'user', 'rates': ['100/m']}."
_EXEMPT_HINT = "List path prefixes starting with / (or regexes starting with ^)."
_BANS_HINT = (
    "A dict like {'threshold': 20, 'window': 600, 'tiers': [300, 3600, 86400], "
    "'memory': 604800}, or None for no bans."
)
#: ``{setting: (id, hint)}``; the others are switches (True or False): E306.
_FINDINGS = {
    "HARDENING_RATELIMIT_POLICIES": ("E300", _POLICIES_HINT),
    "HARDENING_RATELIMIT_EXEMPT_PATHS": ("E300", _EXEMPT_HINT),
    "HARDENING_RATELIMIT_BANS": ("E304", _BANS_HINT),
}


@register
def check_ratelimit_settings(**kwargs: Any) -> list[CheckMessage]:
    """Every unusable value (it is ignored: the default applies until it is fixed)."""
    messages: list[CheckMessage] = []
    for name, why in conf.problems():
        code, hint = _FINDINGS.get(name, ("E306", f"Set {name} to True or False."))
        messages.append(problem(code, f"{name} is unusable: {why}"[:200], hint))
    return messages


@register
def check_ratelimit_middleware(**kwargs: Any) -> list[CheckMessage]:
    if not conf.HARDENING_RATELIMIT_ENABLED:
        return []
    middleware = installed_middleware()
    if MIDDLEWARE not in middleware:
        return [
            problem(
                "E305",
                "Rate limits are enabled but RateLimitMiddleware is not in MIDDLEWARE.",
                f"Add {MIDDLEWARE!r} after the authentication middleware.",
            )
        ]
    return []
