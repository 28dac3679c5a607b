"""Optional JWKS sharing between processes through a Django cache."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from hardening.jwt.keys import KeyLookupError, KeyStore
from hardening.observability.metrics import JWKS_FETCHES
from tests.jwt.helpers import JWKSServer
from tests.servers import free_port


def store(server: JWKSServer, alias: str) -> KeyStore:
    return KeyStore(
        server.url,
        ttl=300.0,
        timeout=1.0,
        cooldown=30.0,
        stale_ttl=600.0,
        shared_cache=alias,
    )


def test_second_process_uses_the_shared_document(jwks_server: JWKSServer) -> None:
    cache_hits = JWKS_FETCHES.labels(outcome="cache")._value.get()
    first, second = store(jwks_server, "default"), store(jwks_server, "default")
    assert first.get("k1").kid == "k1"
    assert second.get("k1").kid == "k1"
    assert jwks_server.hits == 1
    assert JWKS_FETCHES.labels(outcome="cache")._value.get() == cache_hits + 1


def test_new_process_starts_while_endpoint_is_down(jwks_server: JWKSServer) -> None:
    first = store(jwks_server, "default")
    first.get("k1")
    jwks_server.status = 503
    late = store(jwks_server, "default")
    # The shared document is past its TTL (wall clock): the late process tries the network.
    from django.core.cache import caches

    assert late.shared is not None
    entry = caches["default"].get(late.shared.key)
    caches["default"].set(late.shared.key, {**entry, "at": entry["at"] - 301}, 900)
    assert late.get("k1").kid == "k1"  # stale-if-error from the shared copy
    assert late.last_error == "http_status"
    assert jwks_server.hits == 2


def test_without_shared_cache_each_process_fetches(jwks_server: JWKSServer) -> None:
    store(jwks_server, "").get("k1")
    store(jwks_server, "").get("k1")
    assert jwks_server.hits == 2


def test_broken_cache_falls_back_to_the_network(jwks_server: JWKSServer) -> None:
    broken = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
    caches: dict[str, Any] = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "broken": broken,
    }
    with override_settings(CACHES=caches):
        assert store(jwks_server, "broken").get("k1").kid == "k1"
    assert jwks_server.hits == 1


def test_bad_shared_entry_is_ignored(jwks_server: JWKSServer) -> None:
    from django.core.cache import caches

    first = store(jwks_server, "default")
    assert first.shared is not None
    caches["default"].set(first.shared.key, {"at": 1e18, "jwks": "garbage"})
    assert store(jwks_server, "default").get("k1").kid == "k1"
    caches["default"].set(first.shared.key, {"at": "x"})
    jwks_server.status = 500
    with pytest.raises(KeyLookupError):
        store(jwks_server, "default").get("k1")


@pytest.mark.redis
def test_shared_through_redis(jwks_server: JWKSServer) -> None:
    first, second = store(jwks_server, "redis"), store(jwks_server, "redis")
    first.get("k1")
    second.get("k1")
    assert jwks_server.hits == 1
