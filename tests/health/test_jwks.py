"""The ``jwks`` readiness check against a real JWKS endpoint on loopback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client, override_settings
from jwt.algorithms import RSAAlgorithm

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("uncached")]


def jwks_document() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
    return json.dumps({"keys": [jwk]}).encode()


class JwksServer:
    def __init__(self) -> None:
        document = jwks_document()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(document)))
                self.end_headers()
                self.wfile.write(document)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/.well-known/jwks.json"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.stop()


def ready() -> tuple[int, dict[str, Any]]:
    response = Client().get("/health/ready")
    return response.status_code, json.loads(response.content)


@pytest.fixture(autouse=True)
def _short_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    from hardening.jwt import keys

    monkeypatch.setattr(keys, "CACHE_TTL", 0.2)  # keys go stale quickly: probes fetch again


def issuer(server: JwksServer, **changes: Any) -> override_settings:
    entry = {"issuer": f"http://127.0.0.1:{server.port}", "jwks_url": server.url}
    return override_settings(
        HARDENING_JWT_ISSUERS=[entry],  # a new issuer list: new key stores
        HARDENING_HEALTH_TIMEOUT=2.5,
        **changes,
    )


def test_no_issuer_no_jwks_check() -> None:
    status, body = ready()
    assert status == 200
    assert "jwks" not in body["checks"]


def test_jwks_down_with_stale_keys_is_degraded(jwks: JwksServer) -> None:
    from hardening.observability.metrics import HEALTH_DEGRADED

    before = HEALTH_DEGRADED.labels(check="jwks")._value.get()
    with issuer(jwks):
        status, body = ready()
        assert status == 200, body
        assert body["checks"]["jwks"]["status"] == "ok"
        jwks.stop()
        deadline = time.monotonic() + 10
        while body["status"] != "degraded":
            assert status == 200, body  # stale keys still verify: this instance serves
            assert time.monotonic() < deadline, body
            status, body = ready()
    assert status == 200
    assert body["checks"]["jwks"]["status"] == "degraded"
    assert body["checks"]["jwks"]["reason"] in (
        "jwks stale keys in use: oidc=connection",
        "jwks stale keys in use: oidc=jwks_unavailable",
    )
    assert HEALTH_DEGRADED.labels(check="jwks")._value.get() > before


def test_jwks_reachable_then_down_past_the_stale_ttl(
    jwks: JwksServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hardening.jwt import keys

    monkeypatch.setattr(keys, "STALE_TTL", 0.2)
    with issuer(jwks):
        status, body = ready()
        assert status == 200, body
        assert body["checks"]["jwks"]["status"] == "ok"
        jwks.stop()
        deadline = time.monotonic() + 10
        while status != 503:
            assert time.monotonic() < deadline, body
            status, body = ready()
    assert status == 503
    # "connection" once a fetch has failed; "jwks_unavailable" when the probe lands inside
    # the key store's cooldown before its first failed fetch is recorded.
    assert body["checks"]["jwks"]["reason"] in (
        "jwks unavailable: oidc=connection",
        "jwks unavailable: oidc=jwks_unavailable",
    )
    assert str(jwks.port) not in json.dumps(body)


def test_jwks_can_be_noncritical(jwks: JwksServer) -> None:
    # HARDENING_HEALTH_NONCRITICAL was removed: {"critical": False} makes a failure degraded.
    jwks.stop()
    tolerated = ["database", "migrations", "cache", ("jwks", {"critical": False})]
    with issuer(jwks, HARDENING_HEALTH_CHECKS=tolerated):
        status, body = ready()
    assert (status, body["status"], body["checks"]["jwks"]["status"]) == (
        200,
        "degraded",
        "degraded",
    )


def test_labels_and_codes_that_look_like_urls_are_redacted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import hardening.jwt.keys

    report = {"clerk": None, "oidc": "https://user:pw@idp.example/x", "a b": "timeout"}
    monkeypatch.setattr(hardening.jwt.keys, "jwks_health", lambda: report)
    status, body = ready()
    assert status == 503
    assert body["checks"]["jwks"]["reason"] == ("jwks unavailable: oidc=redacted, redacted=timeout")
