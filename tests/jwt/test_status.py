"""jwks_health() for the readiness check."""

from __future__ import annotations

from typing import Any

from hardening.jwt.status import jwks_health
from tests.jwt.helpers import JWKSServer, public_pem, rsa_key


def test_healthy_and_cached(oidc: JWKSServer) -> None:
    assert jwks_health() == {"oidc": None}
    assert jwks_health() == {"oidc": None}
    assert oidc.hits == 1  # second call answered from the fresh cache


def test_errors_are_short_codes(oidc: JWKSServer) -> None:
    oidc.status = 500
    report = jwks_health()
    assert report == {"oidc": "http_status"}


def test_timeout_is_bounded(oidc: JWKSServer, settings: Any) -> None:
    oidc.delay = 2.5
    settings.HARDENING_JWKS_TIMEOUT = 0.3
    assert jwks_health() == {"oidc": "timeout"}


def test_unreachable_and_pem_issuers(settings: Any) -> None:
    from tests.servers import free_port

    settings.HARDENING_OIDC_ISSUER = "https://login.example.com/"
    settings.HARDENING_OIDC_JWKS_URL = f"http://127.0.0.1:{free_port()}/jwks"
    settings.HARDENING_CLERK_ISSUER = "https://c.example.com"
    settings.HARDENING_CLERK_JWT_KEY = public_pem(rsa_key())
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
