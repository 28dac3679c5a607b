"""The JWKS key store against a real HTTP server on loopback."""

from __future__ import annotations

import threading
import time

import pytest

from hardening.jwt.fetch import fetch_jwks, parse_jwks
from hardening.jwt.keys import KeyLookupError, KeyStore
from hardening.observability.metrics import JWKS_FETCHES
from tests.helpers.clock import FakeClock
from tests.jwt.helpers import JWKSServer, ec_key, jwk, rsa_key


def store(server: JWKSServer, **kw: float) -> KeyStore:
    options = {"ttl": 300.0, "timeout": 2.0, "cooldown": 30.0, "stale_ttl": 600.0, **kw}
    return KeyStore(server.url, **options)


def count(outcome: str) -> float:
    return JWKS_FETCHES.labels(outcome=outcome)._value.get()


def test_fetches_once_then_serves_from_cache(jwks_server: JWKSServer) -> None:
    ok_before = count("ok")
    keys = store(jwks_server)
    for _ in range(50):
        assert keys.get("k1").kty == "RSA"
    assert jwks_server.hits == 1
    assert count("ok") == ok_before + 1


def test_refetches_after_ttl_and_picks_up_rotation(
    jwks_server: JWKSServer, clock: FakeClock
) -> None:
    keys = store(jwks_server)
    keys.get("k1")
    jwks_server.keys = [jwk(rsa_key("b"), "k2")]
    clock.advance(301)
    assert keys.get("k2").kid == "k2"
    with pytest.raises(KeyLookupError) as info:
        keys.get("k1")  # removed from the JWKS: no longer trusted
    assert info.value.reason == "unknown_key"
    assert jwks_server.hits == 2


def test_unknown_kid_flood_costs_one_fetch_per_cooldown(
    jwks_server: JWKSServer, clock: FakeClock
) -> None:
    keys = store(jwks_server)
    keys.get("k1")
    clock.advance(31)  # past the cooldown of the first fetch
    for index in range(200):
        with pytest.raises(KeyLookupError):
            keys.get(f"random-{index}")
    assert jwks_server.hits == 2  # initial + one refresh for the whole flood
    clock.advance(31)
    for index in range(200):
        with pytest.raises(KeyLookupError):
            keys.get(f"again-{index}")
    assert jwks_server.hits == 3


def test_negative_cache_remembers_missing_kid(jwks_server: JWKSServer, clock: FakeClock) -> None:
    keys = store(jwks_server, cooldown=0.0)
    keys.get("k1")
    with pytest.raises(KeyLookupError):
        keys.get("missing")
    hits = jwks_server.hits
    with pytest.raises(KeyLookupError):
        keys.get("missing")
    assert jwks_server.hits == hits  # answered from the negative cache, no cooldown needed
    # A genuinely new key appears and is found after the negative entry expires.
    jwks_server.keys.append(jwk(rsa_key("b"), "missing"))
    clock.advance(31)
    assert keys.get("missing").kid == "missing"


def test_new_key_found_on_unknown_kid_after_cooldown(
    jwks_server: JWKSServer, clock: FakeClock
) -> None:
    keys = store(jwks_server)
    keys.get("k1")
    jwks_server.keys.append(jwk(rsa_key("b"), "k2"))
    clock.advance(31)
    assert keys.get("k2").kid == "k2"


def test_stale_if_error_then_fail_closed(jwks_server: JWKSServer, clock: FakeClock) -> None:
    errors_before = count("error")
    keys = store(jwks_server, ttl=300.0, stale_ttl=600.0)
    keys.get("k1")
    jwks_server.status = 500
    clock.advance(301)
    assert keys.get("k1").kid == "k1"  # endpoint down: stale key still verifies
    assert keys.last_error == "http_status"
    assert count("error") == errors_before + 1
    clock.advance(10)
    keys.get("k1")  # within the cooldown after the error: no new fetch
    assert jwks_server.hits == 2
    clock.advance(600)
    with pytest.raises(KeyLookupError) as info:
        keys.get("k1")
    assert info.value.reason == "jwks_unavailable"
    jwks_server.status = 200
    clock.advance(31)
    assert keys.get("k1").kid == "k1"  # recovers once the endpoint answers


def test_slow_endpoint_times_out(jwks_server: JWKSServer) -> None:
    jwks_server.delay = 3
    keys = store(jwks_server, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(KeyLookupError) as info:
        keys.get("k1")
    assert info.value.reason == "jwks_unavailable"
    assert keys.last_error == "timeout"
    assert time.monotonic() - started < 2


def test_single_flight_cold_start(jwks_server: JWKSServer) -> None:
    jwks_server.delay = 0.3
    keys = store(jwks_server)
    results: list[str] = []

    def worker() -> None:
        results.append(keys.get("k1").kid or "")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert results == ["k1"] * 8
    assert jwks_server.hits == 1


def test_cached_lookup_does_not_wait_behind_refresh(
    jwks_server: JWKSServer, clock: FakeClock
) -> None:
    keys = store(jwks_server)
    keys.get("k1")
    clock.advance(301)
    jwks_server.delay = 1.5
    refresher = threading.Thread(target=keys.get, args=("k1",))
    refresher.start()
    deadline = time.monotonic() + 5
    while jwks_server.hits < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert jwks_server.hits == 2  # the refresh is in flight
    started = time.monotonic()
    assert keys.get("k1").kid == "k1"
    assert time.monotonic() - started < 0.5
    refresher.join(10)


def test_redirects_are_not_followed(jwks_server: JWKSServer) -> None:
    with JWKSServer() as target:
        jwks_server.redirect_to = target.url
        with pytest.raises(KeyLookupError) as info:
            fetch_jwks(jwks_server.url, 2)
        assert info.value.reason == "http_status"
        assert target.hits == 0


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/jwks", "gopher://x"])
def test_only_http_urls(url: str) -> None:
    with pytest.raises(KeyLookupError) as info:
        fetch_jwks(url, 1)
    assert info.value.reason == "bad_url"


def test_bad_documents(jwks_server: JWKSServer) -> None:
    jwks_server.body = b"not json"
    with pytest.raises(KeyLookupError) as info:
        fetch_jwks(jwks_server.url, 2)
    assert info.value.reason == "invalid_json"
    jwks_server.body = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(KeyLookupError):
        fetch_jwks(jwks_server.url, 2)
    jwks_server.body = b" " * (600 * 1024)
    with pytest.raises(KeyLookupError) as info:
        fetch_jwks(jwks_server.url, 2)
    assert info.value.reason == "too_large"


def test_only_signing_keys_are_kept() -> None:
    good = jwk(rsa_key(), "good")
    document = {
        "keys": [
            good,
            jwk(ec_key(), "ec"),
            {**jwk(rsa_key(), "enc"), "use": "enc"},
            {**jwk(rsa_key(), "ops"), "key_ops": ["encrypt"]},
            {**jwk(rsa_key(), "ops-ok"), "key_ops": ["verify"]},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {**jwk(rsa_key(), "nokid"), "kid": None},
            {**jwk(rsa_key(), "dup")},
            {**jwk(rsa_key("b"), "dup")},
            "garbage",
        ]
    }
    assert sorted(parse_jwks(document)) == ["ec", "good", "ops-ok"]


def test_small_rsa_and_private_keys_are_ignored() -> None:
    import json

    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the point
    weak = {**json.loads(RSAAlgorithm.to_jwk(small.public_key())), "kid": "weak"}
    private = {**json.loads(RSAAlgorithm.to_jwk(rsa_key())), "kid": "private"}
    assert parse_jwks({"keys": [weak, private]}) == {}


def test_concurrent_unknown_kids_never_raise_anything_else(jwks_server: JWKSServer) -> None:
    keys = store(jwks_server, cooldown=0.0, negative_ttl=0.0)
    keys.get("k1")
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        for n in range(200):
            try:
                keys._remember_missing(f"{index}-{n}", 0.0)
                keys.get("k1")
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
