"""Settings of the request timeouts: typed, read on access, never raising in a request.

A value that does not parse falls back to its default and is reported by the room's checks
(``hardening.E401`` a number of seconds, ``E402`` the routes, the mode and the database
mode).  What the middleware reads on every request (the budget for a path, the mode) is
derived once by :func:`config` and derived again when one of these settings changes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from hardening.conf import parse
from hardening.conf.base import Reader, setting

#: How a WSGI request is stopped at its deadline (ASGI always cancels the request's task):
#: ``auto``: a ``SIGALRM`` timer in the main thread when nothing else uses ``SIGALRM``
#: (gunicorn sync), a helper thread elsewhere (gthread, runserver); ``signal``: only the
#: timer (other threads run the request in place); ``thread``: only the helper thread (the
#: main thread runs the request in place); ``cooperative``: neither, the request stops at
#: ``check_deadline()``, at its next query (its in-flight query is cancelled) or at an
#: outgoing call through ``budget()``.
MODES = ("auto", "signal", "thread", "cooperative")
#: ``auto``: SET LOCAL in transactions, SET (+ reset) in autocommit.  ``local``: only
#: SET LOCAL (pgbouncer transaction pooling).  ``off``: no statement timeout.
DB_MODES = ("auto", "local", "off")
#: Health probes and metrics scrapes have timeouts of their own.
DEFAULT_ROUTES: dict[str, float | None] = {"/health/": None, "/metrics": None}

#: ``(path prefix, seconds or None)``, longest prefix first.
Routes = tuple[tuple[str, float | None], ...]


def parse_seconds(value: Any) -> float | None:
    """A positive finite number of seconds (a number or a numeric string), or None for
    ``None`` / ``0`` (no deadline)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(f"expected a number of seconds, got {value!r}")
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {value!r}") from None
    if seconds == 0:
        return None
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"expected a positive number of seconds, got {value!r}")
    return seconds


def parse_routes(value: Any) -> Routes:
    """``{path prefix: seconds or None}`` as :data:`Routes`."""
    if not isinstance(value, Mapping):
        raise TypeError(f"expected a dict {{path prefix: seconds or None}}, got {value!r}")
    routes = []
    for prefix, seconds in value.items():
        try:
            routes.append((str(prefix), parse_seconds(seconds)))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{prefix!r}: {exc}") from None
    return tuple(sorted(routes, key=lambda route: len(route[0]), reverse=True))


class Settings(Reader):
    removed = {
        "HARDENING_REQUEST_TIMEOUT_EXEMPT": (
            "HARDENING_REQUEST_TIMEOUT_ROUTES with None for each exempt prefix (its default "
            "is {'/health/': None, '/metrics': None})"
        ),
        "HARDENING_REQUEST_TIMEOUT_SIGNAL": (
            "HARDENING_REQUEST_TIMEOUT_MODE ('thread' for SIGNAL = False, 'cooperative' "
            "when THREAD was False too)"
        ),
        "HARDENING_REQUEST_TIMEOUT_THREAD": (
            "HARDENING_REQUEST_TIMEOUT_MODE ('signal' for THREAD = False, 'cooperative' "
            "when SIGNAL was False too)"
        ),
    }

    HARDENING_REQUEST_TIMEOUT = setting[float | None](
        30.0,
        parse_seconds,
        "Seconds a request may take; ``None`` or ``0``: no deadline.",
    )
    HARDENING_REQUEST_TIMEOUT_ROUTES = setting(
        parse_routes(DEFAULT_ROUTES),
        parse_routes,
        "``{path prefix: seconds or None}``: the longest matching prefix wins; ``None`` (or "
        "``0``): no deadline.  Default: ``/health/`` and ``/metrics`` have none.",
    )
    HARDENING_REQUEST_TIMEOUT_MODE = setting(
        "auto",
        parse.choice(*MODES),
        "How a WSGI request is stopped: ``auto``, ``signal``, ``thread`` or ``cooperative``.",
    )
    HARDENING_REQUEST_TIMEOUT_DB = setting(
        "auto",
        parse.choice(*DB_MODES),
        "PostgreSQL statement timeouts: ``auto``, ``local`` (pgbouncer transaction pooling) "
        "or ``off``.",
    )
    HARDENING_SERVER_TIMEOUT = setting[float | None](
        None,
        parse_seconds,
        "The server's or proxy's own timeout in seconds, when known (``hardening.E403``).",
    )


conf = Settings()
NAMES = frozenset(Settings.declared())


@dataclass(frozen=True)
class Config:
    """What the middleware reads on every request, derived once."""

    budget: float | None
    routes: Routes
    #: Arm the SIGALRM timer in the main thread (modes auto, signal).
    signal: bool
    #: Run a WSGI request served outside the main thread in a helper thread (auto, thread).
    thread: bool
    db_mode: str

    def budget_for(self, path: str) -> float | None:
        """The budget for a request path (None: no deadline)."""
        for prefix, seconds in self.routes:
            if path.startswith(prefix):
                return seconds
        return self.budget


@functools.cache
def config() -> Config:
    """The derived timeout configuration (never raises: bad values are the defaults)."""
    mode = conf.HARDENING_REQUEST_TIMEOUT_MODE
    return Config(
        budget=conf.HARDENING_REQUEST_TIMEOUT,
        routes=conf.HARDENING_REQUEST_TIMEOUT_ROUTES,
        signal=mode in ("auto", "signal"),
        thread=mode in ("auto", "thread"),
        db_mode=conf.HARDENING_REQUEST_TIMEOUT_DB,
    )


def budget_for_path(path: str) -> float | None:
    """The budget for a request path (None: no deadline)."""
    return config().budget_for(path)


@receiver(setting_changed)
def _clear(*, setting: str, **kwargs: object) -> None:
    if setting in NAMES:
        config.cache_clear()
