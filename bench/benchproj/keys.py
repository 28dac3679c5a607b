"""Test keys, tokens and a loopback JWKS server for the benchmarks.

One RSA-2048 keypair per run (written to ``PERF_KEYDIR``) signs two kinds of RS256
token: a simplejwt access token for the peer stack (``user_id`` claim, user looked up in
the database) and an OIDC-style token (``iss``/``aud``/``sub``/``kid``) that the hardening
stack verifies with the public key it fetched once from :class:`JWKSServer`.
"""

from __future__ import annotations

import base64
import functools
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

KID = "bench-key-1"
AUDIENCE = "bench"
USER_ID = 1
#: Users of the "mix" scenario (bench/mix.py): ids 2 .. MIX_USERS + 1.
MIX_USERS = 1000
LIFETIME = 2 * 3600


def generate(keydir: Path) -> None:
    """Write ``private.pem`` and ``public.pem`` into ``keydir``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    keydir.mkdir(parents=True, exist_ok=True)
    (keydir / "private.pem").write_bytes(private)
    (keydir / "public.pem").write_bytes(public)


def private_pem(keydir: Path) -> str:
    return (keydir / "private.pem").read_text()


@functools.lru_cache(maxsize=4)
def private_key(keydir: Path) -> Any:
    """The loaded private key (loading a PEM costs far more than signing with it)."""
    return serialization.load_pem_private_key(private_pem(keydir).encode(), password=None)


def public_pem(keydir: Path) -> str:
    return (keydir / "public.pem").read_text()


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwks(keydir: Path) -> dict[str, Any]:
    public = serialization.load_pem_public_key(public_pem(keydir).encode())
    assert isinstance(public, rsa.RSAPublicKey)
    numbers = public.public_numbers()
    item = {
        "kty": "RSA",
        "kid": KID,
        "use": "sig",
        "alg": "RS256",
        "n": _b64(numbers.n),
        "e": _b64(numbers.e),
    }
    return {"keys": [item]}


def peer_token(keydir: Path, user_id: int = USER_ID) -> str:
    """A simplejwt RS256 access token for user ``user_id``."""
    now = int(time.time())
    claims = {
        "token_type": "access",
        "exp": now + LIFETIME,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "user_id": str(user_id),
    }
    return jwt.encode(claims, private_key(keydir), algorithm="RS256")


def oidc_token(keydir: Path, issuer: str, sub: int = USER_ID) -> str:
    """An RS256 token from ``issuer`` (verified by the hardening stack through the JWKS)."""
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": str(sub),
        "exp": now + LIFETIME,
        "iat": now,
        "jti": uuid.uuid4().hex,
    }
    headers = {"kid": KID, "typ": "JWT"}
    return jwt.encode(claims, private_key(keydir), algorithm="RS256", headers=headers)


class JWKSServer:
    """Serves ``GET /jwks.json`` on a free loopback port in a daemon thread."""

    def __init__(self, keydir: Path) -> None:
        body = json.dumps(jwks(keydir)).encode()
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                outer.fetches += 1
                if self.path != "/jwks.json":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.issuer}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> JWKSServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
