"""A per-process circuit breaker for hot-path cache calls (rate limits, MFA counters,
the shared JWKS copy).

Without it a hung Redis costs every request its full socket timeout.  After the first
outage error (a timeout or a refused/reset connection) the breaker *opens*: callers skip
the cache and apply their fail-open/closed policy at once.  After a short interval
(0.5 s, doubling after each failed probe up to 5 s) one request is let through as a
probe; its success closes the breaker.  Recovery is automatic.

One WARNING is logged when the breaker opens and one when it closes (with the number of
calls skipped and failed meanwhile): never one line per request.  State and transitions
are exported as ``hardening_breaker_open`` and ``hardening_breaker_transitions_total``.

State is per process (each worker finds out on its own, at the cost of one timeout).
Written by hand: pybreaker and friends count failures before opening and have no
doubling probe interval; the logic fits in this module.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import BaseCache, caches
from django.core.signals import setting_changed
from django.dispatch import receiver

from hardening import clock
from hardening.observability.metrics import BREAKER_OPEN, BREAKER_TRANSITIONS

logger = logging.getLogger("hardening.breaker")

#: First skip interval (seconds) after an outage error; doubled per failed probe.
INITIAL = 0.5
#: Longest skip interval (seconds).
MAXIMUM = 5.0

T = TypeVar("T")

# InvalidResponse: something that is not Redis answers on the port.
_OUTAGE_NAMES = {
    "ConnectionError",
    "TimeoutError",
    "BusyLoadingError",
    "ConnectionInterrupted",
    "InvalidResponse",
}


class BreakerOpen(Exception):  # noqa: N818 - the name says what happened
    """The dependency is being skipped after an outage; apply the fallback policy."""


def is_outage(exc: BaseException) -> bool:
    """A timeout or connection failure (not a bad argument or a missing key)."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 5:
        if isinstance(current, (OSError, BreakerOpen)):
            return True
        names = {cls.__name__ for cls in type(current).__mro__}
        if names & _OUTAGE_NAMES:
            if "ConnectionInterrupted" in names and current.__cause__ is not None:
                current, seen = current.__cause__, seen + 1  # django-redis wraps the cause
                continue
            return True
        current, seen = current.__cause__, seen + 1
    return False


def log_cache_failure(log: logging.Logger, what: str, exc: BaseException) -> None:
    """Log a failed cache call of ``what`` from inside its ``except`` block.

    An outage is logged once by the cache's breaker, not here on every request (DEBUG);
    anything else is a bug worth its traceback (ERROR)."""
    if is_outage(exc):
        log.debug("%s unavailable", what, exc_info=True)
    else:
        log.error("%s unavailable", what, exc_info=True)


class Breaker:
    """One dependency's breaker; intervals on :func:`hardening.clock.monotonic` (tests move
    it with the fake clock of ``tests/helpers/clock.py``)."""

    def __init__(self, name: str, *, initial: float = INITIAL, maximum: float = MAXIMUM) -> None:
        self.name, self.initial, self.maximum = name, initial, maximum
        self._lock = threading.Lock()
        self._open = False
        self._probing = False
        self._until = 0.0
        self._interval = initial
        self._since = 0.0
        self._skipped = 0
        self._failures = 0

    @property
    def state(self) -> str:
        if not self._open:
            return "closed"
        return "probing" if self._probing else "open"

    def allow(self) -> bool:
        """True: call the dependency (normally, or as the probe); False: skip it."""
        if self.state == "closed":  # the common case: no lock
            return True
        with self._lock:
            if self.state == "closed":  # closed meanwhile
                return True
            now = clock.monotonic()
            # A probe that never reported (killed thread) must not block probing forever.
            stuck = self._probing and now >= self._until + self.maximum
            if now >= self._until and (not self._probing or stuck):
                self._probing = True
                self._until = now
                return True
            self._skipped += 1
            return False

    def success(self) -> None:
        if self.state == "closed":
            return
        with self._lock:
            if self.state == "closed":  # closed meanwhile
                return
            down = clock.monotonic() - self._since
            self._open = self._probing = False
            self._interval = self.initial
            skipped, failures = self._skipped, self._failures
        BREAKER_OPEN.labels(breaker=self.name).set(0)
        BREAKER_TRANSITIONS.labels(breaker=self.name, state="closed").inc()
        logger.warning(
            "%s recovered after %.1f s: %d calls skipped, %d failed during the outage",
            self.name,
            down,
            skipped,
            failures,
            extra={"breaker": self.name, "skipped": skipped, "failures": failures},
        )

    def failure(self, exc: BaseException) -> bool:
        """Record an outage error; True when this call opened the breaker."""
        with self._lock:
            now = clock.monotonic()
            self._failures += 1
            if not self._open:
                self._open, self._probing = True, False
                self._interval, self._since = self.initial, now
                self._skipped, self._failures = 0, 1
                self._until = now + self._interval
                opened = True
            elif self._probing:  # the probe failed: wait longer
                self._probing = False
                self._interval = min(self._interval * 2, self.maximum)
                self._until = now + self._interval
                opened = False
            else:  # a call that started before the breaker opened
                return False
        if opened:
            BREAKER_OPEN.labels(breaker=self.name).set(1)
            BREAKER_TRANSITIONS.labels(breaker=self.name, state="open").inc()
            logger.warning(
                "%s unavailable (%s): skipping it, probing again after %.1f s",
                self.name,
                type(exc).__name__,
                self._interval,
                extra={"breaker": self.name, "error": type(exc).__name__},
            )
        return opened

    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``func(*args, **kwargs)`` through the breaker; raises BreakerOpen when open."""
        if not self.allow():
            raise BreakerOpen(self.name)
        try:
            result = func(*args, **kwargs)
        except Exception as exc:
            if is_outage(exc):
                self.failure(exc)
            else:
                self.success()  # the dependency answered
            raise
        self.success()
        return result


_breakers: dict[str, Breaker] = {}
_registry_lock = threading.Lock()


def breaker(name: str) -> Breaker:
    found = _breakers.get(name)
    if found is None:
        with _registry_lock:
            found = _breakers.setdefault(name, Breaker(name))
    return found


def for_cache(alias: str) -> Breaker:
    """The breaker shared by every hot-path user of the cache ``alias``."""
    return breaker(f"cache {alias!r}")


def reset_all() -> None:
    """Forget every breaker (tests)."""
    with _registry_lock:
        _breakers.clear()


@receiver(setting_changed)
def _clear(*, setting: str, **kwargs: object) -> None:
    if setting == "CACHES":
        reset_all()


class GuardedCache:
    """``caches[alias]`` whose method calls go through the alias's breaker.

    A call while the breaker is open raises :class:`BreakerOpen` at once, which callers
    that already catch cache errors treat like any other failure.
    """

    def __init__(self, alias: str) -> None:
        self._alias = alias

    @property
    def cache(self) -> BaseCache:
        return caches[self._alias]

    def __getattr__(self, name: str) -> Any:
        attr = getattr(caches[self._alias], name)
        if not callable(attr):
            return attr
        guard = for_cache(self._alias)

        def guarded(*args: Any, **kwargs: Any) -> Any:
            return guard.call(attr, *args, **kwargs)

        return guarded
