"""JWKS endpoints that misbehave: empty or unusable key sets, trickled bodies, max-age."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import caches

from hardening.jwt.jwks import KeyStore
from tests.jwt.helpers import FakeClock, JWKSServer, jwk, rsa_key


def store(server: JWKSServer, clock: FakeClock, **kw: Any) -> KeyStore:
    options = {"ttl": 300.0, "timeout": 2.0, "cooldown": 30.0, "stale_ttl": 600.0, **kw}
    return KeyStore(server.url, clock=clock, **options)


def shared_document(keys: KeyStore) -> Any:
    assert keys.shared is not None
    entry = caches[keys.shared.alias].get(keys.shared.key)
    return None if entry is None else entry["jwks"]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"keys": []}, "no_usable_keys"),
        ({"keys": [{**jwk(rsa_key(), "enc"), "use": "enc"}]}, "no_usable_keys"),
        ({"keys": ["garbage", {"kty": "oct", "kid": "h", "k": "c2VjcmV0"}]}, "no_usable_keys"),
        ({"nokeys": True}, "invalid_jwks"),
    ],
)
def test_an_unusable_key_set_keeps_the_last_good_keys_and_is_not_shared(
    jwks_server: JWKSServer, bad: dict[str, Any], reason: str
) -> None:
    clock = FakeClock()
    keys = store(jwks_server, clock, shared_cache="default")
    good = {"keys": list(jwks_server.keys)}
    assert keys.get("k1").kid == "k1"
    assert keys.health() is None
    jwks_server.keys = bad.get("keys", [])
    jwks_server.body = None if "keys" in bad else b'{"nokeys": true}'
    clock.advance(301)  # past the TTL: the refresh gets the bad document
    assert keys.shared is not None  # the shared copy is as old (wall clock) as the TTL
    entry = caches["default"].get(keys.shared.key)
    caches["default"].set(keys.shared.key, {**entry, "at": entry["at"] - 301}, 900)
    assert keys.get("k1").kid == "k1"  # stale-if-error covers it
    assert jwks_server.hits == 2
    assert keys.last_error == reason
    assert keys.health() == reason  # readiness reports it
    assert shared_document(keys) == good  # the bad document never replaced the shared copy
    # Fixed: the next fetch (after the cooldown) installs the good keys again.
    jwks_server.keys, jwks_server.body = good["keys"], None
    clock.advance(31)
    assert keys.health() is None
    assert keys.get("k1").kid == "k1"


def test_an_empty_key_set_on_an_unknown_kid_refresh_keeps_keys(jwks_server: JWKSServer) -> None:
    clock = FakeClock()
    keys = store(jwks_server, clock, cooldown=0.0)
    keys.get("k1")
    jwks_server.keys = []
    with pytest.raises(Exception):  # noqa: B017, PT011 - unknown_key
        keys.get("rotated")
    assert keys.get("k1").kid == "k1"  # still fresh and kept
    assert keys.health() == "no_usable_keys"  # though fresh, readiness says so


def test_a_cold_store_with_an_empty_key_set_has_no_keys(jwks_server: JWKSServer) -> None:
    jwks_server.keys = []
    keys = store(jwks_server, FakeClock())
    assert keys.health() == "no_usable_keys"
    assert not keys.has_keys()
