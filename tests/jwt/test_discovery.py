"""OIDC discovery (hardening.jwt.discovery): an issuer configured by its URL alone, against a
real HTTP server that serves /.well-known/openid-configuration and the JWKS it names."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client

from hardening.jwt.discovery import STALE_TTL, TTL, Discovery
from hardening.jwt.fetch import MAX_JWKS_BYTES, KeyLookupError
from hardening.jwt.keys import jwks_health
from tests.helpers.clock import FakeClock
from tests.jwt.helpers import AUDIENCE, add_issuer, claims, jwk, rsa_key, sign

pytestmark = pytest.mark.django_db


class Provider:
    """An OpenID provider on 127.0.0.1: discovery document and JWKS, switchable faults."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.discovery_status = 200
        self.discovery_body: bytes | None = None
        self.redirect = False
        self.issuer_override: str | None = None
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                provider.paths.append(self.path)
                if self.path == "/.well-known/openid-configuration":
                    if provider.redirect:
                        self.send_response(302)
                        self.send_header("Location", provider.base + "/elsewhere")
                        self.end_headers()
                        return
                    status = provider.discovery_status
                    body = (
                        provider.discovery_body
                        or json.dumps(
                            {
                                "issuer": provider.issuer_override or provider.base,
                                "jwks_uri": provider.base + "/oauth/keys",
                            }
                        ).encode()
                    )
                else:
                    status, body = 200, json.dumps({"keys": [jwk(rsa_key(), "k1")]}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )


@pytest.fixture
def provider() -> Iterator[Provider]:
    found = Provider()
    found.thread.start()
    yield found
    found.httpd.shutdown()
    found.httpd.server_close()


def me(client: Client, token: str) -> Any:
    return client.get("/api/me", headers={"Authorization": f"Bearer {token}"})


def test_an_issuer_url_alone_is_enough(client: Client, provider: Provider, settings: Any) -> None:
    add_issuer(settings, issuer=provider.base, audience=[AUDIENCE])
    response = me(client, sign(claims(provider.base, aud=AUDIENCE, sub="discovered")))
    assert response.status_code == 200, response.content
    assert response.json()["sub"] == "discovered"
    assert provider.paths == ["/.well-known/openid-configuration", "/oauth/keys"]
    assert jwks_health() == {"oidc": None}


def test_a_document_for_another_issuer_is_refused(
    client: Client, provider: Provider, settings: Any
) -> None:
    provider.issuer_override = "https://evil.example.com"
    add_issuer(settings, issuer=provider.base, audience=[AUDIENCE])
    response = me(client, sign(claims(provider.base, aud=AUDIENCE)))
    assert response.status_code == 401
    assert "/oauth/keys" not in provider.paths  # its jwks_uri was never fetched
    assert jwks_health() == {"oidc": "issuer_mismatch"}


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ({"redirect": True}, "discovery_http_status"),
        ({"discovery_status": 500}, "discovery_http_status"),
        ({"discovery_body": b"x" * (MAX_JWKS_BYTES + 1)}, "discovery_too_large"),
        ({"discovery_body": b"{not json"}, "discovery_invalid_json"),
        ({"discovery_body": b'{"issuer": "%s", "jwks_uri": "ftp://x/keys"}'}, "bad_jwks_uri"),
    ],
)
def test_fetch_hardening(provider: Provider, fault: dict[str, Any], reason: str) -> None:
    for name, value in fault.items():
        if isinstance(value, bytes) and b"%s" in value:
            value = value.replace(b"%s", provider.base.encode())
        setattr(provider, name, value)
    with pytest.raises(KeyLookupError) as raised:
        Discovery(provider.base).jwks_uri(2.0)
    assert raised.value.reason == reason


def test_stale_if_error_then_fail_closed(provider: Provider, clock: FakeClock) -> None:
    discovery = Discovery(provider.base)
    assert discovery.jwks_uri(2.0) == provider.base + "/oauth/keys"
    assert (
        discovery.jwks_uri(2.0) and provider.paths.count("/.well-known/openid-configuration") == 1
    )
    provider.discovery_status = 503
    clock.advance(TTL + 1)
    assert discovery.jwks_uri(2.0) == provider.base + "/oauth/keys"  # the last good one
    clock.advance(STALE_TTL)
    with pytest.raises(KeyLookupError, match="discovery_http_status"):
        discovery.jwks_uri(2.0)


def test_an_https_issuer_never_takes_an_http_jwks_uri() -> None:
    discovery = Discovery("https://login.example.com")
    with pytest.raises(KeyLookupError, match="bad_jwks_uri"):
        discovery._validate({"issuer": "https://login.example.com", "jwks_uri": "http://x/k"})
    document = {"issuer": "https://login.example.com", "jwks_uri": "https://x/k"}
    assert discovery._validate(document) == "https://x/k"
