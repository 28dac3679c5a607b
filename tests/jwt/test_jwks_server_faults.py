"""JWKS faults through real gunicorn (WSGI) and uvicorn (ASGI) processes (issue 14): an
empty key set, a trickling endpoint, an endpoint that is down, and ``Cache-Control:
max-age``, each against the example project with an OIDC issuer on loopback.

The server runs ``tests.jwt.server_settings`` (JWKS TTL 1 s, cooldown 0.2 s, fetch deadline
1 s).  Each request carries a fresh token (new ``jti``): the same token string again would
be answered from the verified-token memo (``hardening/jwt/memo.py``) without looking at the
keys at all.  Every wait polls with a deadline; nothing asserts after a fixed sleep."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.jwt.helpers import JWKSServer, issuer_token, jwk, me, rsa_key
from tests.servers import Server, serve

pytestmark = pytest.mark.server

KINDS = ["gunicorn", "uvicorn"]
TTL = 1.0  # tests/jwt/server_settings.py
FETCH_DEADLINE = 1.0  # HARDENING_JWKS_TIMEOUT there
HEALTH_TOKEN = "health-detail-token-for-the-tests"


@pytest.fixture
def start(migrated: Path, tmp_path: Path) -> Iterator[Callable[[str, JWKSServer], Any]]:
    """``start(kind, jwks)``: the example project with ``jwks`` as its OIDC issuer."""
    database = tmp_path / "db.sqlite3"
    shutil.copy(migrated, database)

    def run(kind: str, jwks: JWKSServer) -> Any:
        env = {
            "DJANGO_SETTINGS_MODULE": "tests.jwt.server_settings",
            "DATABASE_URL": f"sqlite:///{database}",
            "OIDC_ISSUER": jwks.base,
            "OIDC_JWKS_URL": jwks.url,
            "OIDC_AUDIENCE": "api",
            "HEALTH_TOKEN": HEALTH_TOKEN,
            "HEALTH_CACHE_SECONDS": "0",
            "HEALTH_TIMEOUT": "2.5",
        }
        return serve(kind, env=env, tmp_path=tmp_path)

    yield run


def ready(server: Server) -> tuple[int, dict[str, Any]]:
    reply = server.get("/health/ready", headers={"Authorization": f"Bearer {HEALTH_TOKEN}"})
    data = reply.json()
    assert isinstance(data, dict), reply
    return reply.status, data


def poll(condition: Callable[[], bool], what: str, deadline: float = 15) -> None:
    end = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < end, f"not within {deadline}s: {what}"
        time.sleep(0.05)


@pytest.mark.parametrize("kind", KINDS)
def test_empty_key_set_keeps_the_cached_keys(kind: str, start: Any) -> None:
    """Item 3: ``{"keys": []}`` after a good fetch replaces nothing; readiness says why."""
    with JWKSServer() as jwks, start(kind, jwks) as server:
        assert me(server, issuer_token(jwks)).status == 200
        assert jwks.hits == 1
        fetched = time.monotonic()
        jwks.keys = []
        # Past the TTL a request refetches (and gets the empty set); the token still works.
        poll(lambda: me(server, issuer_token(jwks)).status < 500 and jwks.hits >= 2, "a refetch")
        assert time.monotonic() - fetched >= TTL
        assert me(server, issuer_token(jwks)).status == 200

        status, body = ready(server)
        assert status == 200, body
        assert body["status"] == "degraded"
        check = body["checks"]["jwks"]
        assert check["status"] == "degraded", check
        assert "oidc=no_usable_keys" in check["reason"], check
        assert me(server, issuer_token(jwks)).status == 200
        print(f"MEASURED jwks empty key set {kind}: tokens 200, /health/ready 200 degraded")


@pytest.mark.parametrize("kind", KINDS)
def test_trickling_jwks_does_not_hang_the_first_request(kind: str, start: Any) -> None:
    """Item 4: one byte every 0.5 s (minutes for the document) on a cold server: the first
    bearer request answers a 401 JSON error within the fetch deadline + 1 s."""
    with JWKSServer() as jwks, start(kind, jwks) as server:
        jwks.trickle = 0.5
        began = time.monotonic()
        reply = me(server, issuer_token(jwks))
        elapsed = time.monotonic() - began
        assert elapsed < FETCH_DEADLINE + 1, elapsed
        assert reply.status == 401, reply
        body = reply.json()
        assert isinstance(body, dict) and body["error"] and body["request_id"], body
        assert jwks.hits == 1

        # No keys at all: this instance cannot verify tokens, readiness is 503, in time.
        began = time.monotonic()
        status, data = ready(server)
        assert time.monotonic() - began < FETCH_DEADLINE + 1.5
        assert status == 503, data
        assert data["checks"]["jwks"]["status"] == "error", data
        assert "oidc=timeout" in data["checks"]["jwks"]["reason"], data
        print(f"MEASURED jwks trickle {kind} cold start: 401 in {elapsed:.2f} s (deadline "
              f"{FETCH_DEADLINE:g} s); /health/ready 503 oidc=timeout")  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_jwks_down_past_the_ttl_stale_keys_verify(kind: str, start: Any) -> None:
    """Item 5: the endpoint refuses connections past the TTL: tokens keep verifying with
    the stale keys and readiness is 200 ``degraded``, not 503."""
    jwks = JWKSServer()
    with jwks, start(kind, jwks) as server:
        assert me(server, issuer_token(jwks)).status == 200
        fetched = time.monotonic()
        jwks.__exit__()  # connection refused from now on

        def degraded() -> bool:
            status, body = ready(server)
            assert status == 200, body  # never 503 while the kept keys verify
            return bool(body["checks"]["jwks"]["status"] == "degraded")

        poll(degraded, "readiness degraded")
        assert time.monotonic() - fetched >= TTL
        status, body = ready(server)
        assert status == 200 and body["status"] == "degraded", body
        assert "oidc=connection" in body["checks"]["jwks"]["reason"], body
        for _ in range(3):
            assert me(server, issuer_token(jwks)).status == 200
        assert me(server, issuer_token(jwks, key=rsa_key("attacker"))).status == 401
        print(f"MEASURED jwks down {kind}: tokens 200 on stale keys, /health/ready 200 degraded "
              f"{time.monotonic() - fetched:.2f} s after the fetch (TTL {TTL:g} s)")  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_large_max_age_keeps_keys_past_the_ttl(kind: str, start: Any) -> None:
    """Item 9: ``Cache-Control: max-age=600`` overrides the 1 s TTL: no refetch for seconds
    past it (the JWKS server's hit count stays 1), and readiness stays ``ok``.  The key
    removal at N s is not tested here: max-age is clamped to at least 60 s."""
    with JWKSServer() as jwks, start(kind, jwks) as server:
        jwks.headers = {"Cache-Control": "public, max-age=600"}
        assert me(server, issuer_token(jwks)).status == 200
        assert jwks.hits == 1
        fetched = time.monotonic()
        jwks.keys = [jwk(rsa_key("b"), "k2")]  # what a refetch would bring
        # Requests past the TTL + cooldown (bounded): none of them refetches.
        while time.monotonic() - fetched < 3 * TTL:
            assert me(server, issuer_token(jwks)).status == 200
            time.sleep(0.1)
        status, body = ready(server)
        assert status == 200 and body["checks"]["jwks"]["status"] == "ok", body
        assert jwks.hits == 1
        # The endpoint was reachable all along: an unknown kid does fetch (and finds k2).
        assert me(server, issuer_token(jwks, "k2", rsa_key("b"))).status == 200
        assert jwks.hits == 2
