"""Rate-limit policies: what is counted (key), how fast (rates) and where (paths).

Rates use django-ratelimit's syntax and parser (``"100/m"``, ``"5/15m"``, ``"300/3600"``
as seconds, or a ``(count, seconds)`` tuple).  A policy is a dict in
``HARDENING_RATELIMIT_POLICIES``::

    {"name": "auth", "key": "ip", "rates": ["10/m", "100/h"],
     "paths": ["/api/auth/token", "^/api/auth/password/"], "fail_open": False}

Keys: ``user`` (authenticated requests, by user), ``anon`` (anonymous requests, by client
IP), ``ip`` (every request, by client IP), ``user_or_ip`` and ``global`` (one bucket for the
whole site).  ``paths`` are prefixes, or regexes when they start with ``^``; a policy with
paths is a route policy and fails closed unless ``fail_open`` says otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django_ratelimit.core import _split_rate

__all__ = ["KEYS", "Policy", "PolicyError", "Rate", "parse_policies", "parse_policy", "parse_rate"]

KEYS = frozenset({"user", "anon", "ip", "user_or_ip", "global"})
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,40}$")
_RATE = re.compile(r"^\s*\d+/\d*[smhd]?\s*$")
_ALL_METHODS: frozenset[str] = frozenset()


class PolicyError(ValueError):
    """A policy or rate that cannot be used (reported by hardening.E300)."""


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
    _regexes: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)

    def matches(self, path: str, method: str) -> bool:
        if self.methods and method not in self.methods:
            return False
        if not self.paths:
            return True
        if any(path.startswith(p) for p in self.paths if not p.startswith("^")):
            return True
        return any(r.match(path) for r in self._regexes)


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
        regexes = tuple(re.compile(p) for p in paths if p.startswith("^"))
    except re.error as exc:
        raise PolicyError(f"policy {name!r}: bad path regex: {exc}") from None
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
        _regexes=regexes,
    )


def parse_policies(raw: object) -> tuple[Policy, ...]:
    policies = tuple(parse_policy(p) for p in _as_list(raw))
    names = [p.name for p in policies]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise PolicyError(f"duplicate policy name(s): {', '.join(duplicates)}")
    return policies
