"""Rate-limit policies: what is counted (key), how fast (rates) and where (paths).

Rates use django-ratelimit's syntax and parser (``"100/m"``, ``"5/15m"``, ``"300/3600"``
as seconds, or a ``(count, seconds)`` tuple).  A policy is a dict in
``HARDENING_RATELIMIT_POLICIES``::

    {"name": "auth", "key": "ip", "rates": ["10/m", "100/h"],
     "paths": ["/api/auth/token", "^/api/auth/password/"], "fail_open": False}

Keys: ``user`` (authenticated requests, by user), ``anon`` (anonymous requests, by client
IP), ``ip`` (every request, by client IP), ``user_or_ip``, ``global`` (one bucket for the
whole site) and ``api_key`` (requests authenticated by an API key, by key: ``key:<public id>``;
other requests are not counted by it).  ``paths`` are prefixes, or regexes when they start
with ``^``; a policy with paths is a route policy and fails closed unless ``fail_open`` says
otherwise.

Bans (``HARDENING_RATELIMIT_BANS``, :class:`Bans`) escalate for clients that keep being
refused; ``None`` disables them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django_ratelimit.core import _split_rate

KEYS = frozenset({"user", "anon", "ip", "user_or_ip", "global", "api_key"})
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,40}$")
_RATE = re.compile(r"^\s*\d+/\d*[smhd]?\s*$")
_ALL_METHODS: frozenset[str] = frozenset()


class PolicyError(ValueError):
    """A policy, rate, path or ban setting that cannot be used (hardening.E300 / E304)."""


@dataclass(frozen=True)
class Paths:
    """Path prefixes, or regexes when they start with ``^`` (matched from the start)."""

    prefixes: tuple[str, ...] = ()
    regexes: tuple[re.Pattern[str], ...] = ()

    def matches(self, path: str) -> bool:
        return path.startswith(self.prefixes) or any(r.match(path) for r in self.regexes)


def parse_paths(raw: Iterable[str]) -> Paths:
    entries = tuple(raw)
    try:
        regexes = tuple(re.compile(p) for p in entries if p.startswith("^"))
    except re.error as exc:
        raise PolicyError(f"bad path regex: {exc}") from None
    return Paths(tuple(p for p in entries if not p.startswith("^")), regexes)


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int

    @property
    def text(self) -> str:
        return f"{self.limit}/{self.seconds}s"


def parse_rate(value: object) -> Rate:
    """Parse a rate with django-ratelimit's parser, rejecting what it would misread.

    >>> parse_rate("100/m"), parse_rate("5/15m"), parse_rate((3, 10))
    (Rate(limit=100, seconds=60), Rate(limit=5, seconds=900), Rate(limit=3, seconds=10))
    """
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        count, seconds = value
    elif isinstance(value, str) and _RATE.match(value):
        # _split_rate uses re.match and ignores trailing junk ("10/minute" -> 10/m): the
        # regex above makes sure the whole string is a rate.
        count, seconds = _split_rate(value.strip())
    else:
        raise PolicyError(f"{value!r} is not a rate like '100/m', '5/15m' or (count, seconds)")
    if count < 0 or seconds <= 0:
        raise PolicyError(f"{value!r}: the count must be >= 0 and the period > 0")
    return Rate(int(count), int(seconds))


@dataclass(frozen=True)
class Policy:
    name: str
    key: str
    rates: tuple[Rate, ...]
    paths: tuple[str, ...] = ()
    methods: frozenset[str] = _ALL_METHODS
    fail_open: bool = True
    ban: bool = True
    _match: Paths = field(default=Paths(), repr=False, compare=False)

    def matches(self, path: str, method: str) -> bool:
        if self.methods and method not in self.methods:
            return False
        return not self.paths or self._match.matches(path)


def _as_list(value: object) -> list[Any]:
    if isinstance(value, (str, tuple, Mapping)):
        return [value]
    if isinstance(value, Iterable):
        return list(value)
    return [value]


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    raise PolicyError(f"{value!r} is not a list of strings")


def parse_policy(raw: Mapping[str, Any], *, route: bool = False) -> Policy:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"a policy must be a dict, got {type(raw).__name__}")
    unknown = set(raw) - {"name", "key", "rate", "rates", "paths", "methods", "fail_open", "ban"}
    if unknown:
        raise PolicyError(f"unknown policy option(s): {', '.join(sorted(unknown))}")
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise PolicyError(f"policy name {name!r} must match {_NAME.pattern}")
    key = raw.get("key", "user_or_ip")
    if key not in KEYS:
        raise PolicyError(f"policy {name!r}: key {key!r} is not one of {sorted(KEYS)}")
    rates_raw = raw.get("rates", raw.get("rate"))
    if rates_raw is None:
        raise PolicyError(f"policy {name!r} has no rate")
    try:
        rates = tuple(parse_rate(r) for r in _as_list(rates_raw))
    except PolicyError as exc:
        raise PolicyError(f"policy {name!r}: {exc}") from None
    if not rates:
        raise PolicyError(f"policy {name!r} has no rate")
    paths = tuple(_strings(raw.get("paths", ())))
    try:
        match = parse_paths(paths)
    except PolicyError as exc:
        raise PolicyError(f"policy {name!r}: {exc}") from None
    methods = frozenset(m.upper() for m in _strings(raw.get("methods", ())))
    is_route = route or bool(paths)
    return Policy(
        name=name,
        key=key,
        rates=rates,
        paths=paths,
        methods=methods,
        fail_open=bool(raw.get("fail_open", not is_route)),
        ban=bool(raw.get("ban", key != "global")) and key != "global",
        _match=match,
    )


def parse_policies(raw: object) -> tuple[Policy, ...]:
    policies = tuple(parse_policy(p) for p in _as_list(raw))
    names = [p.name for p in policies]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise PolicyError(f"duplicate policy name(s): {', '.join(duplicates)}")
    return policies


@dataclass(frozen=True)
class Bans:
    """Refusals of one client (user or IP) that earn a ban, and how long bans last."""

    #: Refusals within ``window`` seconds that earn a ban.
    threshold: int = 20
    window: int = 600
    #: Ban lengths in seconds for the 1st, 2nd, ... ban (the last one repeats).
    tiers: tuple[int, ...] = (300, 3600, 86400)
    #: Seconds a client's ban level is remembered after its last ban.
    memory: int = 7 * 86400

    @cached_property
    def args(self) -> tuple[int, ...]:
        """The script's ARGV after ``now``: threshold, window, memory, ntiers, tiers."""
        return (self.threshold, self.window, self.memory, len(self.tiers), *self.tiers)


#: The script's ban ARGV when bans are off (no identity is ever counted then).
NO_BANS_ARGS = (0, 1, 1, 0)
_BAN_FIELDS = frozenset({"threshold", "window", "tiers", "memory"})


def _whole_seconds(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise PolicyError(f"{name} must be a whole number above 0, got {value!r}")
    return value


def parse_bans(raw: object) -> Bans | None:
    """``HARDENING_RATELIMIT_BANS``: None (no bans) or a dict of :class:`Bans` fields (the
    missing ones keep their defaults).

    >>> parse_bans({"threshold": 5, "tiers": [60, 600]})
    Bans(threshold=5, window=600, tiers=(60, 600), memory=604800)
    """
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise PolicyError(f"expected a dict or None, got {type(raw).__name__}")
    unknown = set(raw) - _BAN_FIELDS
    if unknown:
        raise PolicyError(f"unknown option(s): {', '.join(sorted(map(str, unknown)))}")
    default = Bans()
    tiers = raw.get("tiers", default.tiers)
    if isinstance(tiers, str) or not isinstance(tiers, Iterable):
        raise PolicyError(f"tiers must be a list of seconds, got {tiers!r}")
    tiers = tuple(_whole_seconds("each tier", t) for t in tiers)
    if not tiers:
        raise PolicyError("tiers must list at least one ban length (None disables bans)")
    return Bans(
        threshold=_whole_seconds("threshold", raw.get("threshold", default.threshold)),
        window=_whole_seconds("window", raw.get("window", default.window)),
        tiers=tiers,
        memory=_whole_seconds("memory", raw.get("memory", default.memory)),
    )
