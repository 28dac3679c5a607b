"""Settings of the rate limits: typed, read on access, never raising in a request.

A value that does not parse falls back to its default and is reported by the room's checks
(``hardening.E300`` policies and exempt paths, ``E304`` bans, ``E306`` the switches).  What
the middleware needs on every request (parsed policies, compiled paths) is derived once by
:func:`config` and derived again when one of these settings changes.  The cache every room
shares is the core ``HARDENING_CACHE``; the masks of client addresses are constants of
:mod:`hardening.ratelimit.ip`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from hardening.conf import parse
from hardening.conf.base import Reader, setting
from hardening.ratelimit.policy import (
    NO_BANS_ARGS,
    Bans,
    Paths,
    Policy,
    PolicyError,
    parse_bans,
    parse_paths,
    parse_policies,
)

DEFAULT_POLICIES = [
    {"name": "user", "key": "user", "rates": ["100/m"]},
    {"name": "ip", "key": "anon", "rates": ["60/m"]},
    {"name": "global", "key": "global", "rates": ["10000/m"]},
]
DEFAULT_EXEMPT_PATHS = ["/health/", "/metrics"]


def _exempt_paths(value: Any) -> Paths:
    try:
        return parse_paths(parse.path_prefixes(value))
    except PolicyError as exc:
        raise ValueError(str(exc)) from None


class Settings(Reader):
    removed = {
        "HARDENING_RATELIMIT_CACHE": "HARDENING_CACHE",
        "HARDENING_RATELIMIT_BAN_THRESHOLD": "HARDENING_RATELIMIT_BANS",
        "HARDENING_RATELIMIT_BAN_WINDOW": "HARDENING_RATELIMIT_BANS",
        "HARDENING_RATELIMIT_BAN_TIERS": "HARDENING_RATELIMIT_BANS",
        "HARDENING_RATELIMIT_BAN_MEMORY": "HARDENING_RATELIMIT_BANS",
        "HARDENING_RATELIMIT_IPV4_MASK": "nothing: hardening.ratelimit.ip.IPV4_MASK is /32",
        "HARDENING_RATELIMIT_IPV6_MASK": "nothing: hardening.ratelimit.ip.IPV6_MASK is /64",
    }

    HARDENING_RATELIMIT_ENABLED = setting(
        True, parse.boolean, "Limit requests (``RateLimitMiddleware`` does nothing when off)."
    )
    HARDENING_RATELIMIT_POLICIES = setting(
        parse_policies(DEFAULT_POLICIES),
        parse_policies,
        "Policy dicts (name, key, rates, paths, methods, fail_open, ban); default: user "
        "100/m, anonymous IP 60/m, global 10000/m.",
    )
    HARDENING_RATELIMIT_BANS = setting[Bans | None](
        Bans(),
        parse_bans,
        "``{'threshold', 'window', 'tiers', 'memory'}`` (missing keys keep their defaults: "
        "20 refusals in 600 s ban for 300, 3600, then 86400 s, remembered 7 days), or None: "
        "no bans.",
    )
    HARDENING_RATELIMIT_EXEMPT_PATHS = setting(
        parse_paths(DEFAULT_EXEMPT_PATHS),
        _exempt_paths,
        "Path prefixes never limited (``^``: a regex).",
    )
    HARDENING_RATELIMIT_HEADERS = setting(
        False,
        parse.boolean,
        "Send ``RateLimit`` / ``RateLimit-Policy`` (IETF draft); off: they disclose capacity.",
    )


conf = Settings()
NAMES = frozenset(Settings.declared())


@dataclass(frozen=True)
class Config:
    """What the middleware and the limiter read on every request, derived once."""

    policies: tuple[Policy, ...]
    exempt: Paths
    headers: bool
    bans: Bans | None

    @property
    def ban_args(self) -> tuple[int, ...]:
        """The script's ban ARGV (threshold, window, memory, ntiers, tiers...)."""
        return NO_BANS_ARGS if self.bans is None else self.bans.args


@functools.cache
def config() -> Config:
    """The derived rate-limit configuration (never raises: bad values are the defaults)."""
    return Config(
        policies=conf.HARDENING_RATELIMIT_POLICIES,
        exempt=conf.HARDENING_RATELIMIT_EXEMPT_PATHS,
        headers=conf.HARDENING_RATELIMIT_HEADERS,
        bans=conf.HARDENING_RATELIMIT_BANS,
    )


@receiver(setting_changed)
def _clear(*, setting: str, **kwargs: object) -> None:
    if setting in NAMES:
        config.cache_clear()
