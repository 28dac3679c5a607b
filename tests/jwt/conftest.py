from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hardening.jwt.config import clear_issuers
from hardening.jwt.jwks import clear_stores
from hardening.jwt.memo import clear_memo
from tests.jwt.helpers import JWKSServer, jwk, rsa_key

OIDC_ISSUER = "https://login.example.com/"
CLERK_ISSUER = "https://clerk.example.com"
AUDIENCE = "api://hardening-tests"


@pytest.fixture(autouse=True)
def _fresh_stores(settings: Any) -> Iterator[None]:
    # Rate limits are another capability's tests; here they would only add 429s.
    settings.HARDENING_RATELIMIT_ENABLED = False
    clear_stores()
    clear_issuers()
    clear_memo()
    yield
    clear_stores()
    clear_issuers()
    clear_memo()


@pytest.fixture
def jwks_server() -> Iterator[JWKSServer]:
    with JWKSServer([jwk(rsa_key(), "k1")]) as server:
        yield server


@pytest.fixture
def oidc(settings: Any, jwks_server: JWKSServer) -> JWKSServer:
    settings.HARDENING_OIDC_ISSUER = OIDC_ISSUER
    settings.HARDENING_OIDC_JWKS_URL = jwks_server.url
    settings.HARDENING_OIDC_AUDIENCE = AUDIENCE
    return jwks_server


@pytest.fixture
def clerk_server() -> Iterator[JWKSServer]:
    with JWKSServer([jwk(rsa_key("clerk"), "ins_1")]) as server:
        yield server


@pytest.fixture
def clerk(settings: Any, clerk_server: JWKSServer) -> JWKSServer:
    settings.HARDENING_CLERK_ISSUER = CLERK_ISSUER
    settings.HARDENING_CLERK_JWKS_URL = clerk_server.url
    settings.HARDENING_CLERK_AUTHORIZED_PARTIES = ["https://app.example.com"]
    return clerk_server
