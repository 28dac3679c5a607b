"""A per-process circuit breaker for hot-path cache calls (rate limits, MFA counters,
the shared JWKS copy).

Without it a hung Redis costs every request its full socket timeout.  After the first
outage error (a timeout or a refused/reset connection) the breaker *opens*: callers skip
the cache and apply their fail-open/closed policy at once.  After a short interval
(0.5 s, doubling after each failed probe up to 5 s) a background thread probes the
dependency (one thread per open breaker per process, none while closed; a probe that
hangs costs that thread its socket timeout, never a request); its success closes the
breaker.  Recovery is automatic.

One WARNING is logged when the breaker opens and one when it closes (with the number of
calls skipped and failed meanwhile): never one line per request.  State and transitions
are exported as ``hardening_breaker_open`` and ``hardening_breaker_transitions_total``.

State is per process (each worker finds out on its own, at the cost of one timeout).
Fork-safe: a child gets fresh locks and starts its own prober (``_after_fork_in_child``).
Written by hand: pybreaker and friends count failures before opening and have no
doubling probe interval; the logic fits in this module.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import BaseCache, caches
from django.core.signals import setting_changed
from django.dispatch import receiver

from hardening import clock
from hardening.observability.metrics import BREAKER_OPEN, BREAKER_TRANSITIONS
from hardening.outage import BreakerOpen, is_outage

logger = logging.getLogger("hardening.breaker")

#: First skip interval (seconds) after an outage error; doubled per failed probe.
INITIAL = 0.5
#: Longest skip interval (seconds).
MAXIMUM = 5.0
#: The key a cache breaker's probe reads.
PROBE_KEY = "hardening:breaker-probe"

T = TypeVar("T")


class Breaker:
    """Open on the first outage error; while open, skip the dependency and let a
    background thread probe it (``probe()``), at most one per breaker per process.
    Intervals on :func:`hardening.clock.monotonic` (tests move it with the fake clock of
    ``tests/helpers/clock.py``)."""

    def __init__(
        self,
        name: str,
        probe: Callable[[], object],
        *,
        initial: float = INITIAL,
        maximum: float = MAXIMUM,
    ) -> None:
        self.name, self.probe = name, probe
        self.initial, self.maximum = initial, maximum
        self._reinit()
        self._open = False
        self._probing = False
        self._until = 0.0
        self._interval = initial
        self._since = 0.0
        self._skipped = 0
        self._failures = 0
        self.probes = 0  # probes run by this process (tests, debugging)

    def _reinit(self) -> None:
        """Fresh locks and no prober: at creation and in a forked child, where a lock held
        by a thread of the parent would stay held and the parent's prober does not run."""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._prober: threading.Thread | None = None

    @property
    def state(self) -> str:
        if not self._open:
            return "closed"
        return "probing" if self._probing else "open"

    def allow(self) -> bool:
        """True: call the dependency; False: skip it (never waits on it while open)."""
        if not self._open:  # the common case: no lock
            return True
        with self._lock:
            if self.state == "closed":  # closed meanwhile
                return True
            self._skipped += 1
            self._ensure_prober()  # after a fork the parent's prober is gone
            return False

    def success(self) -> None:
        if not self._open:
            return
        with self._lock:
            if self.state == "closed":  # closed meanwhile
                return
            down = clock.monotonic() - self._since
            self._open = self._probing = False
            self._interval = self.initial
            skipped, failures = self._skipped, self._failures
        self._stop.set()  # a sleeping prober ends now
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
        """Record an outage error of a live call; True when this call opened the breaker."""
        with self._lock:
            self._failures += 1
            if self._open:  # a call that started before the breaker opened
                return False
            now = clock.monotonic()
            self._open, self._probing = True, False
            self._interval, self._since = self.initial, now
            self._skipped, self._failures = 0, 1
            self._until = now + self._interval
            self._ensure_prober()
        BREAKER_OPEN.labels(breaker=self.name).set(1)
        BREAKER_TRANSITIONS.labels(breaker=self.name, state="open").inc()
        logger.warning(
            "%s unavailable (%s): skipping it, probing again in the background after %.1f s",
            self.name,
            type(exc).__name__,
            self.initial,
            extra={"breaker": self.name, "error": type(exc).__name__},
        )
        return True

    def stop(self) -> None:
        """End the prober (at its next wake-up or after its current probe); tests."""
        self._stop.set()

    def _ensure_prober(self) -> None:
        """Start the background prober unless one runs (lock held)."""
        if self._prober is not None and self._prober.is_alive():
            return
        self._stop = threading.Event()
        thread = threading.Thread(
            target=self._probe_loop, name=f"hardening-breaker {self.name}", daemon=True
        )
        try:
            thread.start()
        except RuntimeError:  # no thread to spare: the next skipped call tries again
            self._prober = None
            return
        self._prober = thread

    def _probe_loop(self) -> None:
        stop = self._stop
        while True:
            with self._lock:
                if not self._open or stop.is_set():
                    return
                delay = self._until - clock.monotonic()
                if delay <= 0:
                    self._probing = True
            if delay > 0:
                stop.wait(min(delay, self.maximum))
                continue
            self.probes += 1
            try:
                self.probe()
            except Exception as exc:  # noqa: BLE001 - an answer other than an outage closes it
                if is_outage(exc):
                    self._probe_failed()
                    continue
            self.success()
            return

    def _probe_failed(self) -> None:
        with self._lock:
            self._failures += 1
            self._probing = False
            self._interval = min(self._interval * 2, self.maximum)
            self._until = clock.monotonic() + self._interval

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


def breaker(name: str, probe: Callable[[], object]) -> Breaker:
    """The process's breaker ``name`` (created with ``probe`` on first use)."""
    found = _breakers.get(name)
    if found is None:
        with _registry_lock:
            found = _breakers.setdefault(name, Breaker(name, probe))
    return found


def for_cache(alias: str) -> Breaker:
    """The breaker shared by every hot-path user of the cache ``alias``; its probe reads
    one key (any answer, even a miss, means the cache is back)."""
    return breaker(f"cache {alias!r}", lambda: caches[alias].get(PROBE_KEY))


def reset_all() -> None:
    """Forget every breaker and end their probers (tests)."""
    with _registry_lock:
        for found in _breakers.values():
            found.stop()
        _breakers.clear()


def _after_fork_in_child() -> None:
    """A breaker used in a pre-forking master (gunicorn ``--preload``) must work in the
    workers: new locks (one may have been held by a thread that does not exist here), and
    a new prober on the next skipped call if the breaker is open."""
    global _registry_lock
    _registry_lock = threading.Lock()
    for found in _breakers.values():
        found._reinit()


if hasattr(os, "register_at_fork"):  # pragma: no branch - every POSIX Python has it
    os.register_at_fork(after_in_child=_after_fork_in_child)


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
