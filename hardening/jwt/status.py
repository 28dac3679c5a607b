"""JWKS health for the readiness check."""

from __future__ import annotations

from hardening.jwt.config import external_issuers
from hardening.jwt.jwks import KeyLookupError, KeyStore, store_for

__all__ = ["jwks_health", "jwks_usable"]

HEALTH_TIMEOUT = 2.0


def jwks_health() -> dict[str, str | None]:
    """``{label: None}`` per issuer using a JWKS URL when its keys are fresh in the cache or
    a fetch (at most 2 s) succeeds, else ``{label: "<short error code>"}`` (``timeout``,
    ``connection``, ``http_status``, ``invalid_json``, ``too_large``, ``bad_url``...).
    The values never contain URLs or secrets."""
    report: dict[str, str | None] = {}
    for issuer in external_issuers():
        if issuer.public_key or not issuer.jwks_url:
            continue
        try:
            store = store_for(issuer)
        except KeyLookupError as exc:
            report[issuer.label] = exc.reason
            continue
        assert isinstance(store, KeyStore)  # type narrow
        original = store.timeout
        store.timeout = min(original, HEALTH_TIMEOUT)
        try:
            report[issuer.label] = store.health()
        finally:
            store.timeout = original
    return report


def jwks_usable() -> dict[str, bool]:
    """``{label: True}`` per JWKS issuer whose cached keys still verify (within TTL + stale
    TTL), so a failing fetch leaves this instance degraded rather than unable to serve.
    Never fetches."""
    usable: dict[str, bool] = {}
    for issuer in external_issuers():
        if issuer.public_key or not issuer.jwks_url:
            continue
        try:
            store = store_for(issuer)
        except KeyLookupError:
            usable[issuer.label] = False
            continue
        usable[issuer.label] = isinstance(store, KeyStore) and store.usable()
    return usable
