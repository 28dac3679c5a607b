from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hardening.jwt.issuers import configured
from hardening.jwt.keys import clear_stores
from hardening.jwt.verify import clear_memo
from tests.jwt.helpers import (
    AUDIENCE,
    CLERK_ISSUER,
    OIDC_ISSUER,
    JWKSServer,
    add_issuer,
    jwk,
    rsa_key,
)
from tests.servers import run_until_exit


@pytest.fixture(autouse=True)
def _fresh_stores(settings: Any) -> Iterator[None]:
    # Rate limits are another capability's tests; here they would only add 429s.
    settings.HARDENING_RATELIMIT_ENABLED = False
    clear_stores()
    configured.cache_clear()
    clear_memo()
    yield
    clear_stores()
    configured.cache_clear()
    clear_memo()


@pytest.fixture
def jwks_server() -> Iterator[JWKSServer]:
    with JWKSServer([jwk(rsa_key(), "k1")]) as server:
        yield server


@pytest.fixture
def oidc(settings: Any, jwks_server: JWKSServer) -> JWKSServer:
    add_issuer(settings, issuer=OIDC_ISSUER, jwks_url=jwks_server.url, audience=AUDIENCE)
    return jwks_server


@pytest.fixture
def clerk_server() -> Iterator[JWKSServer]:
    with JWKSServer([jwk(rsa_key("clerk"), "ins_1")]) as server:
        yield server


@pytest.fixture
def clerk(settings: Any, clerk_server: JWKSServer) -> JWKSServer:
    add_issuer(
        settings,
        preset="clerk",
        issuer=CLERK_ISSUER,
        jwks_url=clerk_server.url,
        authorized_parties=["https://app.example.com"],
    )
    return clerk_server


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite database for the module; each test works on a copy."""
    path = tmp_path_factory.mktemp("jwksdb") / "db.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{path}"}
    done = run_until_exit(
        [sys.executable, "example_project/manage.py", "migrate", "--noinput"], env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return path
