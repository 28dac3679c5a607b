"""The JWKS document shared between processes through a Django cache (optional)."""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from hardening.breaker import GuardedCache

__all__ = ["SharedJWKS"]

logger = logging.getLogger("hardening.jwt")


class SharedJWKS:
    """A JWKS document shared between processes through a Django cache (optional).

    Stores ``{"at": wall-clock fetch time, "jwks": document, "ttl": seconds fresh}``.
    Cache failures are logged and ignored (and go through the cache's circuit breaker):
    the network fetch still works."""

    def __init__(self, alias: str, url: str) -> None:
        self.alias = alias
        self.key = "hardening:jwks:" + hashlib.sha256(url.encode()).hexdigest()

    def get(self) -> tuple[Any, float, float | None] | None:
        """``(document, age in seconds, ttl or None)`` of the shared entry, if any."""
        try:
            entry = GuardedCache(self.alias).get(self.key)
        except Exception:  # noqa: BLE001 - any cache failure means "no shared entry"
            logger.warning("JWKS shared cache %r unavailable", self.alias)
            return None
        if not isinstance(entry, dict) or not isinstance(entry.get("at"), (int, float)):
            return None
        age = max(0.0, time.time() - float(entry["at"]))
        ttl = entry.get("ttl")
        return entry.get("jwks"), age, float(ttl) if isinstance(ttl, (int, float)) else None

    def put(self, document: Any, ttl: float, timeout: float) -> None:
        entry = {"at": time.time(), "jwks": document, "ttl": ttl}
        try:
            GuardedCache(self.alias).set(self.key, entry, timeout)
        except Exception:  # noqa: BLE001 - sharing is an optimisation
            logger.warning("JWKS shared cache %r unavailable", self.alias)
