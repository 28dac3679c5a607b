"""Cache-Control: max-age on JWKS responses, and ``manage.py refresh_jwks``."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from hardening.jwt.fetch import MAX_MAX_AGE, MIN_MAX_AGE, cache_lifetime
from hardening.jwt.issuers import configured
from hardening.jwt.keys import SHARED_CHECK_SECONDS, KeyLookupError, KeyStore, store_for
from tests.helpers.clock import FakeClock
from tests.jwt.helpers import JWKSServer, jwk, rsa_key, share_cache


@pytest.mark.parametrize(
    ("header", "age", "expected"),
    [
        ("public, max-age=120", None, 120.0),
        ("max-age=120", "30", 90.0),
        ("max-age=5", None, MIN_MAX_AGE),
        ("no-cache", None, MIN_MAX_AGE),
        ("no-store, max-age=600", None, MIN_MAX_AGE),
        ("max-age=31536000", None, MAX_MAX_AGE),
        ("max-age=soon", None, None),
        ("public", None, None),
        (None, None, None),
    ],
)
def test_cache_lifetime(header: str | None, age: str | None, expected: float | None) -> None:
    assert cache_lifetime(header, age) == expected


def store(server: JWKSServer, **kw: Any) -> KeyStore:
    options = {"ttl": 300.0, "timeout": 2.0, "cooldown": 30.0, "stale_ttl": 600.0, **kw}
    return KeyStore(server.url, **options)


def test_max_age_shortens_the_ttl_so_a_removed_key_goes_sooner(
    jwks_server: JWKSServer, clock: FakeClock
) -> None:
    jwks_server.headers = {"Cache-Control": "public, max-age=90"}
    keys = store(jwks_server)
    keys.get("k1")
    assert keys.doc_ttl == 90.0
    jwks_server.keys = [jwk(rsa_key("b"), "k2")]  # k1 removed
    clock.advance(91)  # past max-age, well before the configured 300 s
    with pytest.raises(KeyLookupError):
        keys.get("k1")
    assert jwks_server.hits == 2


def test_max_age_lengthens_the_ttl_within_bounds(jwks_server: JWKSServer, clock: FakeClock) -> None:
    jwks_server.headers = {"Cache-Control": "max-age=3600"}
    keys = store(jwks_server)
    keys.get("k1")
    clock.advance(1800)
    keys.get("k1")
    assert jwks_server.hits == 1 and keys.state().fresh


def test_without_max_age_the_setting_applies(jwks_server: JWKSServer) -> None:
    keys = store(jwks_server)
    keys.get("k1")
    assert keys.doc_ttl == 300.0


@pytest.fixture
def shared_oidc(settings: Any, oidc: JWKSServer) -> JWKSServer:
    share_cache(settings)  # HARDENING_CACHE shared between processes: documents are shared
    return oidc


def test_refresh_jwks_updates_the_shared_copy_and_workers_pick_it_up(
    shared_oidc: JWKSServer, clock: FakeClock
) -> None:
    (issuer,) = configured()
    worker = KeyStore(
        shared_oidc.url, ttl=300.0, timeout=2.0, cooldown=30.0, stale_ttl=600.0,
        shared_cache="shared",
    )  # fmt: skip
    assert worker.get("k1").kid == "k1"  # a running worker with k1
    shared_oidc.keys = [jwk(rsa_key("b"), "k2")]  # the operator removes k1 and adds k2
    clock.advance(1)  # later, the operator runs the command
    out = StringIO()
    call_command("refresh_jwks", "--issuer", issuer.label, stdout=out)
    assert "oidc: 1 key(s) [k2], shared cache 'shared' updated" in out.getvalue()
    assert shared_oidc.hits == 2  # the command went to the network
    command_store = store_for(issuer)
    assert isinstance(command_store, KeyStore) and set(command_store.keys) == {"k2"}
    clock.advance(SHARED_CHECK_SECONDS)
    assert worker.get("k2").kid == "k2"  # from the shared copy, no fetch of its own
    with pytest.raises(KeyLookupError):
        worker.get("k1")
    assert shared_oidc.hits == 2


def test_refresh_jwks_failure_and_unknown_label(shared_oidc: JWKSServer) -> None:
    with pytest.raises(CommandError, match="labelled 'nope' \\(oidc\\)"):
        call_command("refresh_jwks", "--issuer", "nope")
    shared_oidc.keys = []
    err = StringIO()
    with pytest.raises(CommandError, match="failed for: oidc"):
        call_command("refresh_jwks", stderr=err)
    assert "no_usable_keys" in err.getvalue()


def test_refresh_jwks_without_issuers() -> None:
    with pytest.raises(CommandError, match="No issuer"):
        call_command("refresh_jwks")


def test_refresh_jwks_without_a_shared_cache_says_workers_keep_their_keys(
    settings: Any, oidc: JWKSServer
) -> None:
    # HARDENING_CACHE is the tests' LocMemCache: per-process, nothing is shared.
    out, err = StringIO(), StringIO()
    call_command("refresh_jwks", stdout=out, stderr=err)
    assert "no shared cache" in out.getvalue()
    assert "running workers keep their keys" in err.getvalue()
