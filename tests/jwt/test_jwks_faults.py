"""JWKS endpoints that misbehave: empty or unusable key sets, trickled bodies, max-age."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import pytest
from django.core.cache import caches

from hardening.jwt.fetch import fetch_jwks
from hardening.jwt.keys import KeyLookupError, KeyStore
from tests.helpers.clock import FakeClock
from tests.jwt.helpers import JWKSServer, jwk, rsa_key


def store(server: JWKSServer, **kw: Any) -> KeyStore:
    options = {"ttl": 300.0, "timeout": 2.0, "cooldown": 30.0, "stale_ttl": 600.0, **kw}
    return KeyStore(server.url, **options)


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
    jwks_server: JWKSServer, bad: dict[str, Any], reason: str, clock: FakeClock
) -> None:
    keys = store(jwks_server, shared_cache="default")
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
    keys = store(jwks_server, cooldown=0.0)
    keys.get("k1")
    jwks_server.keys = []
    with pytest.raises(Exception):  # noqa: B017, PT011 - unknown_key
        keys.get("rotated")
    assert keys.get("k1").kid == "k1"  # still fresh and kept
    assert keys.health() == "no_usable_keys"  # though fresh, readiness says so


def test_a_cold_store_with_an_empty_key_set_has_no_keys(jwks_server: JWKSServer) -> None:
    jwks_server.keys = []
    keys = store(jwks_server)
    assert keys.health() == "no_usable_keys"
    assert not keys.has_keys()


def test_a_trickled_body_hits_the_total_deadline(jwks_server: JWKSServer) -> None:
    jwks_server.trickle = 0.05  # one byte every 50 ms: each read is quick, the whole is not
    started = time.monotonic()
    with pytest.raises(KeyLookupError) as info:
        fetch_jwks(jwks_server.url, 1.0)
    elapsed = time.monotonic() - started
    assert info.value.reason == "timeout"
    assert elapsed < 1.5, elapsed


def test_trickled_headers_hit_the_total_deadline() -> None:
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(4096)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000:
                if stop.wait(0.05):
                    return
                with contextlib.suppress(OSError):
                    conn.sendall(bytes([byte]))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyLookupError) as info:
            fetch_jwks(f"http://127.0.0.1:{port}/jwks.json", 1.0)
    finally:
        stop.set()
        thread.join(5)
        listener.close()
    assert info.value.reason == "timeout"
    assert time.monotonic() - started < 1.5


def test_a_slow_but_complete_answer_within_the_deadline_is_fine(jwks_server: JWKSServer) -> None:
    jwks_server.trickle = 0.0005  # ~500 bytes in ~0.3 s: many slow reads, within 3 s
    assert "k1" in fetch_jwks(jwks_server.url, 3.0)
