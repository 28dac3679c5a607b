"""The JWKS fetch over HTTPS (a private CA trusted through ``SSL_CERT_FILE``) and its
total deadline over name resolution: ``getaddrinfo`` takes no timeout, so a hung resolver
would otherwise hold the fetching request for the resolver's own timeouts."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hardening.jwt.fetch import KeyLookupError, fetch_document, fetch_jwks
from tests.jwt.helpers import JWKSServer
from tests.jwt.tls import loopback_ca


@pytest.fixture
def tls_jwks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[JWKSServer]:
    ca, cert, key = loopback_ca(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # trust the private CA, as an operator would
    with JWKSServer(tls=(cert, key)) as server:
        yield server


def test_https_fetch_verifies_against_the_trusted_ca(
    tls_jwks: JWKSServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert tls_jwks.url.startswith("https://127.0.0.1:")
    assert set(fetch_jwks(tls_jwks.url, 2.0)) == {"k1"}
    (tmp_path / "other").mkdir()
    other_ca, _, _ = loopback_ca(tmp_path / "other")
    monkeypatch.setenv("SSL_CERT_FILE", str(other_ca))  # a CA that did not sign it
    with pytest.raises(KeyLookupError) as refused:
        fetch_jwks(tls_jwks.url, 2.0)
    assert refused.value.reason == "connection"


def test_a_trickle_over_tls_ends_at_the_deadline(tls_jwks: JWKSServer) -> None:
    tls_jwks.trickle = 0.5  # one byte (one TLS record) every 0.5 s
    began = time.monotonic()
    with pytest.raises(KeyLookupError) as timed_out:
        fetch_jwks(tls_jwks.url, 1.0)
    elapsed = time.monotonic() - began
    assert timed_out.value.reason == "timeout"
    assert 0.9 <= elapsed < 1.8, elapsed
    print(f"MEASURED jwks trickle over TLS: timeout after {elapsed:.2f} s (deadline 1 s)")


class Resolver:
    """``socket.getaddrinfo`` for the ``.test`` names: hangs (until released) or answers
    127.0.0.1; every other name goes to the real resolver."""

    def __init__(self, real: Any) -> None:
        self.real, self.release, self.hang = real, threading.Event(), False
        self.calls = 0

    def __call__(self, host: Any, *args: Any, **kwargs: Any) -> Any:
        if not str(host).endswith(".test"):
            return self.real(host, *args, **kwargs)
        self.calls += 1
        if self.hang:
            self.release.wait(10)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return self.real("127.0.0.1", *args, **kwargs)


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Resolver]:
    fake = Resolver(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    yield fake
    fake.release.set()


def test_a_hung_resolver_is_bounded_by_the_fetch_deadline(resolver: Resolver) -> None:
    resolver.hang = True
    for _ in range(3):  # each fetch on its own deadline, however many lookups still hang
        began = time.monotonic()
        with pytest.raises(KeyLookupError) as timed_out:
            fetch_document("https://jwks.hung.test/.well-known/jwks.json", 0.5)
        elapsed = time.monotonic() - began
        assert timed_out.value.reason == "timeout"
        assert elapsed < 1.2, elapsed
    print(f"MEASURED jwks hung DNS: timeout after {elapsed:.2f} s (deadline 0.5 s)")


def test_a_resolved_name_is_fetched(resolver: Resolver) -> None:
    with JWKSServer() as server:
        url = f"http://jwks.local.test:{server.port}/.well-known/jwks.json"
        assert set(fetch_jwks(url, 2.0)) == {"k1"}
    assert resolver.calls == 1
