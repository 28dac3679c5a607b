"""Parsers for :class:`~hardening.conf.base.setting`: each turns a raw Django setting into a
typed value or raises ``ValueError`` / ``TypeError`` with a message the system checks show."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The values of ``HARDENING_ENVIRONMENT`` (``DJANGO_ENV`` through ``hardening.env``).
ENVIRONMENTS = ("production", "development", "test")

_ENVIRONMENT_ALIASES = {"prod": "production", "dev": "development", "testing": "test"}


def environment_name(value: str | None, default: str = "production") -> str:
    """``value`` normalised the way :meth:`Env.environment` reads ``DJANGO_ENV``: unset, empty
    or blank is ``default`` (production: fail safe), ``prod``/``dev``/``testing`` are aliases.
    Not validated: callers that must not raise (``init_sentry()``) use it as it is."""
    normalized = (value or "").strip().lower() or default
    return _ENVIRONMENT_ALIASES.get(normalized, normalized)


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError(f"expected True or False, got {type(value).__name__}")


def string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise TypeError(f"expected a string, got {type(value).__name__}")


def strings(value: Any) -> list[str]:
    """A list (or tuple) of strings; a lone string is a list of one."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list | tuple):
        raise TypeError(f"expected a list of strings, got {type(value).__name__}")
    for item in value:
        if not isinstance(item, str):
            raise TypeError(f"expected a list of strings, found {type(item).__name__}")
    return list(value)


def non_negative_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"expected 0 or more, got {value}")
    return value


def seconds(value: Any) -> float:
    """A duration in seconds, 0 or more (``None`` is 0: off)."""
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected seconds as a number, got {type(value).__name__}")
    if value < 0 or value != value:  # negative or NaN
        raise ValueError(f"expected 0 or more seconds, got {value}")
    return float(value)


def choice(*allowed: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(map(repr, allowed))}, got {value!r}")
        return str(value)

    return parse


def mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected a dict, got {type(value).__name__}")
    return {str(k): v for k, v in value.items()}


def networks(value: Any) -> list[str]:
    """Addresses or networks (``10.0.0.0/8``, ``::1``), kept as the strings given."""
    entries = strings(value)
    for entry in entries:
        try:
            ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            raise ValueError(f"{entry!r} is not an address or network") from None
    return entries


def path_prefixes(value: Any) -> list[str]:
    entries = strings(value)
    for entry in entries:
        if not entry.startswith(("/", "^")):
            raise ValueError(f"{entry!r} is not a path prefix (starts with /) or a ^regex")
    return entries


def optional(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``None`` stays None; anything else goes through ``parse``."""

    def wrapped(value: Any) -> Any:
        return None if value is None else parse(value)

    return wrapped
