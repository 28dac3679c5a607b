"""JWKS key store: one per issuer, in-process.

What PyJWT's ``PyJWKClient`` lacks and this adds (see docs/jwt.md):

* **single flight without blocking readers**: one fetch at a time per issuer; a lookup of a
  cached key never waits behind a refresh (it gets the cached key while the refresh runs);
* **cooldown** for unknown ``kid``s *and* after errors: a flood of random ``kid``s costs at
  most one fetch per cooldown window, and a down endpoint is not hammered;
* **negative cache** of ``kid``s the last fetch did not have;
* **stale-if-error**: keys keep verifying for ``HARDENING_JWKS_STALE_TTL`` seconds past the
  TTL while the endpoint is down (or serves no usable key), then fail closed;
* the TTL honours ``Cache-Control: max-age`` within bounds; fetch rules are in ``fetch.py``.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from hardening.conf import conf
from hardening.jwt.config import Issuer, affects_issuers
from hardening.jwt.fetch import (
    KeyLookupError,
    SigningKey,
    StaticKey,
    fetch_document_lifetime,
    fetch_jwks,
    parse_jwks,
    usable_keys,
)
from hardening.jwt.shared import SharedJWKS
from hardening.observability.metrics import JWKS_FETCHES

__all__ = [
    "KeyLookupError",
    "KeyStore",
    "SigningKey",
    "StaticKey",
    "clear_stores",
    "fetch_jwks",
    "parse_jwks",
    "store_for",
    "usable_keys",
]

MAX_NEGATIVE_ENTRIES = 1024
#: Seconds between looks at the shared cache copy (picks up ``manage.py refresh_jwks``).
SHARED_CHECK_SECONDS = 5.0
logger = logging.getLogger("hardening.jwt")


class KeyStore:
    """The keys of one issuer's JWKS URL, with TTL, cooldown and stale-if-error."""

    def __init__(
        self,
        url: str,
        *,
        ttl: float,
        timeout: float,
        cooldown: float,
        stale_ttl: float,
        negative_ttl: float = 30.0,
        shared_cache: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.shared_cache = shared_cache
        self.ttl, self.timeout, self.cooldown, self.stale_ttl = ttl, timeout, cooldown, stale_ttl
        self.negative_ttl = negative_ttl
        self.clock = clock
        self.keys: dict[str, SigningKey] = {}
        self.doc_ttl = ttl  # the TTL of the installed keys (max-age or the setting)
        self._shared_at = clock()  # last look at the shared copy
        self.ok_at: float | None = None  # last successful fetch
        self.attempt_at: float | None = None  # last fetch attempt (success or not)
        self.last_error: str | None = None
        self.fetches = 0
        self._generation = 0  # completed fetch attempts
        self._lock = threading.Lock()
        self._negative: OrderedDict[str, float] = OrderedDict()
        self._negative_lock = threading.Lock()  # never held across I/O

    # -- state ------------------------------------------------------------------------

    def has_keys(self) -> bool:
        return self.ok_at is not None

    def is_fresh(self, now: float | None = None) -> bool:
        now = self.clock() if now is None else now
        return self.ok_at is not None and now - self.ok_at < self.doc_ttl

    def _usable(self, now: float) -> bool:
        return self.ok_at is not None and now - self.ok_at < self.doc_ttl + self.stale_ttl

    def usable(self) -> bool:
        """Cached keys still verify (fresh, or stale within the stale TTL)."""
        return self._usable(self.clock())

    def _may_fetch(self, now: float) -> bool:
        return self.attempt_at is None or now - self.attempt_at >= self.cooldown

    # -- fetching ---------------------------------------------------------------------

    def refresh(self, *, network: bool = False) -> None:
        """Fetch now (caller holds the lock); record the outcome, never raise.

        With a shared cache, a document another process fetched within its TTL is used
        instead of the network (unless ``network``); after a network error, one within
        TTL + stale TTL.  The TTL is the response's ``Cache-Control: max-age`` within
        [60 s, 24 h], else ``HARDENING_JWKS_CACHE_TTL``."""
        self.attempt_at = self.clock()
        if not network and self._from_shared(stale=False):
            JWKS_FETCHES.labels(outcome="cache").inc()
            return
        self.fetches += 1
        try:
            document, lifetime = fetch_document_lifetime(self.url, self.timeout)
            keys = usable_keys(document)
        except KeyLookupError as exc:
            self.last_error = exc.reason
            JWKS_FETCHES.labels(outcome="error").inc()
            self._from_shared(stale=True, keep_error=True)
            return
        ttl = self.ttl if lifetime is None else lifetime
        if self.shared:
            self.shared.put(document, ttl, ttl + self.stale_ttl)
        self._install(keys, 0.0, ttl)
        JWKS_FETCHES.labels(outcome="ok").inc()

    @functools.cached_property
    def shared(self) -> SharedJWKS | None:
        return SharedJWKS(self.shared_cache, self.url) if self.shared_cache else None

    def _from_shared(self, *, stale: bool, keep_error: bool = False) -> bool:
        """Install another process's document if it is within its TTL (+ the stale TTL
        when ``stale``) and newer than what this process has."""
        entry = self.shared.get() if self.shared else None
        if entry is None:
            return False
        document, age, ttl = entry
        ttl = self.ttl if ttl is None else ttl
        if age >= ttl + (self.stale_ttl if stale else 0.0):
            return False
        if self.ok_at is not None and self.clock() - age <= self.ok_at:
            return False
        try:
            keys = usable_keys(document)
        except KeyLookupError:
            return False
        error = self.last_error if keep_error else None
        self._install(keys, age, ttl)
        self.last_error = error
        return True

    def _check_shared(self, now: float) -> None:
        """Every few seconds, take a newer shared copy (``manage.py refresh_jwks``)."""
        if now - self._shared_at < SHARED_CHECK_SECONDS or not self._lock.acquire(blocking=False):
            return
        try:
            self._shared_at = now
            self._from_shared(stale=False)
        finally:
            self._lock.release()

    def _install(self, keys: dict[str, SigningKey], age: float, ttl: float) -> None:
        self.keys, self.doc_ttl = keys, ttl
        self.ok_at, self.last_error = self.clock() - age, None
        with self._negative_lock:
            self._negative.clear()

    def _refresh_locked(self) -> None:
        try:
            self.refresh()
        finally:
            self._generation += 1

    def _refresh_single_flight(self, generation: int) -> None:
        """Fetch unless another thread fetched since ``generation``; wait for an in-flight
        fetch rather than starting a second one."""
        if not self._lock.acquire(timeout=self.timeout + 1):
            return
        try:
            if self._generation == generation:
                self._refresh_locked()
        finally:
            self._lock.release()

    # -- lookups ----------------------------------------------------------------------

    def get(self, kid: str) -> SigningKey:
        now, generation = self.clock(), self._generation
        if self.ok_at is None:  # cold: everybody waits for the one fetch
            if self._may_fetch(now) or self._lock.locked():
                self._refresh_single_flight(generation)
            if not self.has_keys():
                raise KeyLookupError("jwks_unavailable")
            return self._lookup(kid, self.clock(), self._generation)
        if self.shared is not None:
            self._check_shared(now)
        if not self.is_fresh(now) and self._may_fetch(now) and self._lock.acquire(blocking=False):
            # Expired: this thread refreshes; concurrent readers fall through to the cache.
            try:
                self._refresh_locked()
            finally:
                self._lock.release()
            now, generation = self.clock(), self._generation
        return self._lookup(kid, now, generation)

    def _lookup(self, kid: str, now: float, generation: int) -> SigningKey:
        if not self._usable(now):
            raise KeyLookupError("jwks_unavailable")
        key = self.keys.get(kid)
        if key is not None:
            return key
        with self._negative_lock:
            expiry = self._negative.get(kid)
        if expiry is not None and expiry > now:
            raise KeyLookupError("unknown_key")
        if self._may_fetch(now):
            self._refresh_single_flight(generation)
            key = self.keys.get(kid)
            if key is not None and self._usable(self.clock()):
                return key
        self._remember_missing(kid, now)
        raise KeyLookupError("unknown_key")

    def _remember_missing(self, kid: str, now: float) -> None:
        with self._negative_lock:
            self._negative[kid] = now + self.negative_ttl
            self._negative.move_to_end(kid)
            while len(self._negative) > MAX_NEGATIVE_ENTRIES:
                self._negative.popitem(last=False)

    def _healthy(self) -> bool:
        return self.is_fresh() and self.last_error is None

    def health(self) -> str | None:
        """None when keys are fresh and the last fetch worked, or a fetch now succeeds;
        else a short error code (also while fresh keys are kept after a failed refresh,
        e.g. an empty key set).  Within the cooldown after a failed fetch it reports that
        failure without fetching, so frequent readiness probes do not hammer a JWKS
        endpoint that is down."""
        if self._healthy():
            return None
        if self._may_fetch(self.clock()) and self._lock.acquire(timeout=self.timeout + 1):
            try:
                if not self._healthy():
                    self._refresh_locked()
            finally:
                self._lock.release()
        return None if self._healthy() else (self.last_error or "jwks_unavailable")


_stores: dict[Issuer, KeyStore | StaticKey] = {}
_stores_lock = threading.Lock()


def store_for(issuer: Issuer) -> KeyStore | StaticKey:
    """The key source of ``issuer``, once per process and configuration."""
    store = _stores.get(issuer)
    if store is not None:
        return store
    with _stores_lock:
        store = _stores.get(issuer)
        if store is None:
            if issuer.public_key:
                store = StaticKey(issuer.public_key)
            else:
                cooldown = conf.HARDENING_JWKS_COOLDOWN
                store = KeyStore(
                    issuer.jwks_url,
                    ttl=conf.HARDENING_JWKS_CACHE_TTL,
                    timeout=min(conf.HARDENING_JWKS_TIMEOUT, 3.0),
                    cooldown=cooldown,
                    stale_ttl=conf.HARDENING_JWKS_STALE_TTL,
                    negative_ttl=max(cooldown, 1.0),
                    shared_cache=conf.HARDENING_JWKS_SHARED_CACHE,
                )
            _stores[issuer] = store
    return store


def clear_stores() -> None:
    with _stores_lock:
        _stores.clear()


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if affects_issuers(setting):
        clear_stores()
