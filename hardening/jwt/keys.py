"""The signing keys of each issuer: a JWKS key store per issuer (or its PEM public key).

What the store adds to PyJWT's ``PyJWKClient`` (docs/jwt.md): **single flight** without
blocking readers (a cached key never waits behind a refresh); a **cooldown** after unknown
``kid``s and errors (a flood of random ``kid``s costs one fetch per :data:`COOLDOWN`); a
**negative cache** of missing ``kid``s; **stale-if-error** (keys keep verifying for
:data:`STALE_TTL` past the TTL while the endpoint is down, then fail closed); the TTL from
``Cache-Control: max-age`` within bounds; the **shared copy** of the document in
``HARDENING_CACHE`` when shared between processes (:class:`~hardening.jwt.fetch.SharedJWKS`,
``manage.py refresh_jwks``); the JWKS URL by OIDC discovery (:mod:`hardening.jwt.discovery`);
a **read-only state** for readiness (:meth:`KeyStore.state`; :meth:`KeyStore.health` bounds
its fetch). A store's settings never change while other threads use it."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from hardening import clock
from hardening.conf import conf as core
from hardening.conf.core import per_process
from hardening.jwt.discovery import Discovery
from hardening.jwt.fetch import KeyLookupError, SharedJWKS, SigningKey, fetch_document, usable_keys
from hardening.jwt.issuers import Issuer, StaticKey, configured
from hardening.observability.metrics import JWKS_FETCHES

#: Seconds fetched keys are fresh when the response gives no ``Cache-Control: max-age``.
CACHE_TTL = 300.0
#: Minimum seconds between two fetches caused by unknown ``kid``s or errors.
COOLDOWN = 30.0
#: Seconds past the TTL that cached keys keep verifying while the JWKS is down.
STALE_TTL = 3600.0
#: Seconds one JWKS fetch may take, name resolution and TLS included (at most 3).
TIMEOUT = 2.0
HEALTH_TIMEOUT = 2.0  # seconds a readiness probe's fetch may take
MAX_NEGATIVE_ENTRIES = 1024
SHARED_CHECK_SECONDS = 5.0  # between looks at the shared copy (``refresh_jwks``)


@dataclass(frozen=True)
class KeyState:
    """A key store as the readiness probe sees it (read without a lock, never fetching)."""

    fresh: bool  # keys within their TTL
    usable: bool  # keys still verify: fresh, or stale within STALE_TTL
    error: str | None  # the last fetch's short error code (never a URL or a secret)
    age: float | None  # seconds since the installed keys were fetched

    @property
    def problem(self) -> str | None:
        """None when fresh and the last fetch worked, else a short error code."""
        if self.fresh and self.error is None:
            return None
        return self.error or "jwks_unavailable"


class KeyStore:
    """The keys of one issuer's JWKS URL, with TTL, cooldown and stale-if-error."""

    def __init__(
        self,
        url: str,
        *,
        ttl: float = CACHE_TTL,
        timeout: float = TIMEOUT,
        cooldown: float = COOLDOWN,
        stale_ttl: float = STALE_TTL,
        negative_ttl: float | None = None,
        shared_cache: str = "",
        discovery: Discovery | None = None,
    ) -> None:
        self.url, self.shared_cache, self.discovery = url, shared_cache, discovery
        self.ttl, self.timeout, self.cooldown, self.stale_ttl = ttl, timeout, cooldown, stale_ttl
        self.negative_ttl = max(cooldown, 1.0) if negative_ttl is None else negative_ttl
        self.keys: dict[str, SigningKey] = {}
        self.doc_ttl = ttl  # the TTL of the installed keys (max-age or CACHE_TTL)
        self._shared_at = clock.monotonic()  # last look at the shared copy
        self.ok_at: float | None = None  # last successful fetch
        self.attempt_at: float | None = None  # last fetch attempt (success or not)
        self.last_error: str | None = None
        self._generation = 0  # completed fetch attempts
        self._lock = threading.Lock()
        self._negative: OrderedDict[str, float] = OrderedDict()
        self._negative_lock = threading.Lock()  # never held across I/O

    # -- state (read-only) ------------------------------------------------------------

    def state(self) -> KeyState:
        now, ok_at = clock.monotonic(), self.ok_at
        age = None if ok_at is None else now - ok_at
        return KeyState(self._fresh(now), self._fresh(now, self.stale_ttl), self.last_error, age)

    def has_keys(self) -> bool:
        return self.ok_at is not None

    def _fresh(self, now: float, stale_ttl: float = 0.0) -> bool:
        return self.ok_at is not None and now - self.ok_at < self.doc_ttl + stale_ttl

    def _may_fetch(self, now: float) -> bool:
        return self.attempt_at is None or now - self.attempt_at >= self.cooldown

    def refresh(self, *, network: bool = False, timeout: float | None = None) -> None:
        """Fetch now (caller holds the lock); record the outcome, never raise.  A shared
        document within its TTL replaces the network (unless ``network``); after a network
        error, one within TTL + stale TTL.  ``timeout`` bounds this fetch only."""
        self.attempt_at = clock.monotonic()
        if not network and self._from_shared(stale=False):
            JWKS_FETCHES.labels(outcome="cache").inc()
            return
        try:
            url = self.discovery.jwks_uri(timeout or self.timeout) if self.discovery else self.url
            document, lifetime = fetch_document(url, timeout or self.timeout)
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
        mine = None if self.ok_at is None else clock.monotonic() - self.ok_at
        stale_ttl = self.stale_ttl if stale else 0.0
        found = self.shared.newer(mine, self.ttl, stale_ttl) if self.shared else None
        if found is None:
            return False
        error = self.last_error if keep_error else None
        self._install(*found)
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
        self.ok_at, self.last_error = clock.monotonic() - age, None
        with self._negative_lock:
            self._negative.clear()

    def _refresh_locked(self, timeout: float | None = None) -> None:
        try:
            self.refresh(timeout=timeout)
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

    def get(self, kid: str) -> SigningKey:
        now, generation = clock.monotonic(), self._generation
        if self.ok_at is None:  # cold: everybody waits for the one fetch
            if self._may_fetch(now) or self._lock.locked():
                self._refresh_single_flight(generation)
            if not self.has_keys():
                raise KeyLookupError("jwks_unavailable")
            return self._lookup(kid, clock.monotonic(), self._generation)
        if self.shared is not None:
            self._check_shared(now)
        if not self._fresh(now) and self._may_fetch(now) and self._lock.acquire(blocking=False):
            # Expired: this thread refreshes; concurrent readers fall through to the cache.
            try:
                self._refresh_locked()
            finally:
                self._lock.release()
            now, generation = clock.monotonic(), self._generation
        return self._lookup(kid, now, generation)

    def _lookup(self, kid: str, now: float, generation: int) -> SigningKey:
        if not self._fresh(now, self.stale_ttl):
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
            if key is not None and self._fresh(clock.monotonic(), self.stale_ttl):
                return key
        self._remember_missing(kid, now)
        raise KeyLookupError("unknown_key")

    def _remember_missing(self, kid: str, now: float) -> None:
        with self._negative_lock:
            self._negative[kid] = now + self.negative_ttl
            self._negative.move_to_end(kid)
            while len(self._negative) > MAX_NEGATIVE_ENTRIES:
                self._negative.popitem(last=False)

    def health(self, timeout: float | None = None) -> str | None:
        """:attr:`KeyState.problem` after at most one fetch bounded by ``timeout`` (this call
        only), when the keys are not fresh or the last fetch failed, and not within the
        cooldown: frequent readiness probes do not hammer a JWKS endpoint that is down."""
        timeout = min(HEALTH_TIMEOUT if timeout is None else timeout, self.timeout)
        if self.state().problem is None:
            return None
        if self._may_fetch(clock.monotonic()) and self._lock.acquire(timeout=timeout + 1):
            try:
                if self.state().problem is not None:
                    self._refresh_locked(timeout)
            finally:
                self._lock.release()
        return self.state().problem


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
                alias = core.HARDENING_CACHE
                store = KeyStore(
                    issuer.key_url,
                    ttl=CACHE_TTL,
                    timeout=min(TIMEOUT, 3.0),
                    cooldown=COOLDOWN,
                    stale_ttl=STALE_TTL,
                    shared_cache="" if per_process(alias) else alias,
                    discovery=None if issuer.jwks_url else Discovery(issuer.issuer),
                )
            _stores[issuer] = store
    return store


def clear_stores() -> None:
    with _stores_lock:
        _stores.clear()


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("HARDENING_JWT_ISSUERS", "HARDENING_CACHE", "CACHES"):
        clear_stores()


def jwks_health(timeout: float | None = None) -> dict[str, str | None]:
    """``{label: None}`` per JWKS issuer whose keys are fresh or a fetch now succeeds, else
    ``{label: "<short error code>"}`` (``timeout``, ``connection``, ``http_status``...)."""
    timeout = HEALTH_TIMEOUT if timeout is None else timeout
    return {issuer.label: store.health(timeout) for issuer, store in _jwks_stores()}


def jwks_usable() -> dict[str, bool]:
    """``{label: True}`` per JWKS issuer whose cached keys still verify (stale-if-error
    leaves an instance degraded, not unable to serve).  Never fetches."""
    return {issuer.label: store.state().usable for issuer, store in _jwks_stores()}


def _jwks_stores() -> Iterator[tuple[Issuer, KeyStore]]:
    for issuer in configured():
        if issuer.key_url:
            store = store_for(issuer)
            assert isinstance(store, KeyStore)  # type narrow: a JWKS URL and no PEM key
            yield issuer, store
