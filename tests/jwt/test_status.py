"""jwks_health() for the readiness check, and the key store's read-only state."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from hardening.jwt import keys
from hardening.jwt.issuers import configured
from hardening.jwt.keys import KeyStore, jwks_health, jwks_usable, store_for
from tests.jwt.helpers import JWKSServer, add_issuer, public_pem, rsa_key


def test_healthy_and_cached(oidc: JWKSServer) -> None:
    assert jwks_health() == {"oidc": None}
    assert jwks_health() == {"oidc": None}
    assert oidc.hits == 1  # second call answered from the fresh cache


def test_errors_are_short_codes(oidc: JWKSServer) -> None:
    oidc.status = 500
    report = jwks_health()
    assert report == {"oidc": "http_status"}


def test_timeout_is_bounded(oidc: JWKSServer, monkeypatch: pytest.MonkeyPatch) -> None:
    oidc.delay = 2.5
    monkeypatch.setattr(keys, "TIMEOUT", 0.3)
    assert jwks_health() == {"oidc": "timeout"}


def test_the_probe_has_its_own_timeout(oidc: JWKSServer) -> None:
    oidc.delay = 2.5
    assert jwks_health(timeout=0.3) == {"oidc": "timeout"}


def test_the_probe_never_changes_the_store_other_threads_use(
    oidc: JWKSServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keys, "TIMEOUT", 3.0)
    (issuer,) = configured()
    store = store_for(issuer)
    assert isinstance(store, KeyStore) and store.timeout == 3.0
    oidc.delay = 1.0
    seen: set[float] = set()
    probe = threading.Thread(target=lambda: jwks_health(timeout=0.3))
    probe.start()
    while probe.is_alive():
        seen.add(store.timeout)  # what a concurrent request's fetch would use
    probe.join()
    assert seen == {3.0}
    assert (store.ttl, store.cooldown, store.stale_ttl) == (
        keys.CACHE_TTL,
        keys.COOLDOWN,
        keys.STALE_TTL,
    )


def test_state_is_read_only_and_reports_fresh_stale_error_age(oidc: JWKSServer) -> None:
    (issuer,) = configured()
    store = store_for(issuer)
    assert isinstance(store, KeyStore)
    cold = store.state()
    assert (cold.fresh, cold.usable, cold.error, cold.age) == (False, False, None, None)
    assert cold.problem == "jwks_unavailable"
    assert oidc.hits == 0  # reading the state never fetches
    store.get("k1")
    warm = store.state()
    assert warm.fresh and warm.usable and warm.error is None and warm.problem is None
    assert warm.age is not None and 0 <= warm.age < 5
    assert jwks_usable() == {"oidc": True}


def test_unreachable_and_pem_issuers(settings: Any) -> None:
    from tests.servers import free_port

    add_issuer(
        settings,
        issuer="https://login.example.com/",
        jwks_url=f"http://127.0.0.1:{free_port()}/jwks",
    )
    add_issuer(
        settings, preset="clerk", issuer="https://c.example.com", public_key=public_pem(rsa_key())
    )
    report = jwks_health()
    assert report == {"oidc": "connection"}  # the PEM issuer needs no fetch
    assert "127.0.0.1" not in str(report)


def test_nothing_configured() -> None:
    assert jwks_health() == {}


def test_probes_do_not_hammer_a_down_endpoint(oidc: JWKSServer) -> None:
    oidc.status = 503
    for _ in range(5):
        assert jwks_health() == {"oidc": "http_status"}
    assert oidc.hits == 1  # the cooldown applies to health probes too
