"""Keys, token builders and a real JWKS server on loopback for the JWT tests."""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.cache.backends.locmem import LocMemCache
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

if TYPE_CHECKING:
    from tests.servers import Reply, Server

OIDC_ISSUER = "https://login.example.com/"
CLERK_ISSUER = "https://clerk.example.com"
AUDIENCE = "api://hardening-tests"


class SharedMemoryCache(LocMemCache):
    """A local-memory cache that ``hardening.conf.core.per_process`` does not know: within
    one test process it stands in for a cache every worker shares (Redis)."""


def share_cache(settings: Any) -> None:
    """Make ``HARDENING_CACHE`` a shared cache (alias ``shared``): JWKS documents are shared."""
    settings.CACHES = {**settings.CACHES, "shared": {"BACKEND": f"{__name__}.SharedMemoryCache"}}
    settings.HARDENING_CACHE = "shared"


def add_issuer(settings: Any, **entry: Any) -> None:
    """Append one ``HARDENING_JWT_ISSUERS`` entry (pytest-django's ``settings`` fixture)."""
    settings.HARDENING_JWT_ISSUERS = [*getattr(settings, "HARDENING_JWT_ISSUERS", []), entry]


def update_issuer(settings: Any, label: str, **changes: Any) -> None:
    """Change the keys of the entry labelled ``label`` (its preset when it has no label)."""
    settings.HARDENING_JWT_ISSUERS = [
        {**item, **changes} if item.get("label", item.get("preset", "oidc")) == label else item
        for item in settings.HARDENING_JWT_ISSUERS
    ]


@functools.cache
def rsa_key(name: str = "a") -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def ec_key(name: str = "a") -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(key: Any) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def jwk(key: Any, kid: str, **extra: Any) -> dict[str, Any]:
    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        data = json.loads(RSAAlgorithm.to_jwk(public))
    else:
        data = json.loads(ECAlgorithm.to_jwk(public))
    data.update({"kid": kid, "use": "sig"}, **extra)
    return data


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(iss: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": iss,
        "sub": "user_2abc",
        "iat": now,
        "nbf": now - 1,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def sign(
    payload: dict[str, Any],
    key: Any = None,
    *,
    kid: str | None = "k1",
    alg: str = "RS256",
    headers: dict[str, Any] | None = None,
) -> str:
    key = rsa_key() if key is None else key
    extra = {"kid": kid} if kid is not None else {}
    extra.update(headers or {})
    return jwt.encode(payload, key, algorithm=alg, headers=extra)


def sign_raw(header: dict[str, Any], payload: bytes, key: Any = None) -> str:
    """Sign arbitrary payload bytes (duplicate claims, nesting) with RS256."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    key = rsa_key() if key is None else key
    signing_input = b64(json.dumps(header).encode()) + "." + b64(payload)
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64(signature)


class JWKSServer:
    """A JWKS endpoint on 127.0.0.1 that counts requests and can fail on demand."""

    def __init__(
        self, keys: list[dict[str, Any]] | None = None, *, tls: tuple[Path, Path] | None = None
    ) -> None:
        """``tls=(certificate, key)``: serve HTTPS (see :func:`tests.jwt.tls.loopback_ca`)."""
        self.keys = keys if keys is not None else [jwk(rsa_key(), "k1")]
        self.status = 200
        self.delay = 0.0
        self.body: bytes | None = None
        self.redirect_to: str | None = None
        self.trickle = 0.0  # seconds between bytes of the response (a slow-loris server)
        self.headers: dict[str, str] = {}  # extra response headers (Cache-Control...)
        self.hits = 0
        self.paths: list[str] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                with server.lock:
                    server.hits += 1
                    server.paths.append(self.path)
                if server.delay:
                    time.sleep(server.delay)
                if server.redirect_to:
                    self.send_response(302)
                    self.send_header("Location", server.redirect_to)
                    self.end_headers()
                    return
                body = server.body or json.dumps({"keys": server.keys}).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in server.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    if not server.trickle:
                        self.wfile.write(body)
                        return
                    self.wfile.flush()
                    for index in range(len(body)):  # bounded by the client hanging up
                        time.sleep(server.trickle)
                        self.wfile.write(body[index : index + 1])
                        self.wfile.flush()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.port = self.httpd.server_address[1]
        self.url = f"{scheme}://127.0.0.1:{self.port}/.well-known/jwks.json"
        self.base = f"{scheme}://127.0.0.1:{self.port}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> JWKSServer:
        forget_shared_jwks(self.url)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        forget_shared_jwks(self.url)


def forget_shared_jwks(url: str) -> None:
    """Drop the shared (cross-process) JWKS entry of ``url`` from every cache: loopback
    ports are reused, and with Redis behind the tests an earlier test's document for the
    same address (another key set, written at another fake time) would be installed."""
    from django.conf import settings
    from django.core.cache import caches

    from hardening.jwt.fetch import SharedJWKS

    key = SharedJWKS("", url).key
    for alias in settings.CACHES:
        with contextlib.suppress(Exception):
            caches[alias].delete(key)


@contextmanager
def jwks_server(keys: list[dict[str, Any]] | None = None) -> Iterator[JWKSServer]:
    with JWKSServer(keys) as server:
        yield server


def issuer_token(jwks: JWKSServer, kid: str = "k1", key: Any = None) -> str:
    """A fresh token (new ``jti``) of the OIDC issuer ``jwks`` serves, for audience ``api``."""
    return sign(claims(jwks.base, aud="api"), key, kid=kid)


def me(server: Server, bearer: str) -> Reply:
    """``GET /api/me`` on a real server with ``bearer``."""
    return server.get("/api/me", headers={"Authorization": f"Bearer {bearer}"})
