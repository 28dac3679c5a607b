"""Clerk and generic OIDC tokens at /api/me, with their JWKS served on loopback."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client

from tests.jwt.helpers import (
    AUDIENCE,
    CLERK_ISSUER,
    OIDC_ISSUER,
    JWKSServer,
    add_issuer,
    claims,
    public_pem,
    rsa_key,
    sign,
    update_issuer,
)

pytestmark = pytest.mark.django_db

APP = "https://app.example.com"


def clerk_claims(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"sid": "sess_1", "azp": APP, "v": 2, **changes}
    return claims(CLERK_ISSUER, **values)


def clerk_token(**changes: Any) -> str:
    return sign(clerk_claims(**changes), rsa_key("clerk"), kid="ins_1")


def me(client: Client, token: str) -> Any:
    return client.get("/api/me", headers={"Authorization": f"Bearer {token}"})


def test_oidc_token(client: Client, oidc: JWKSServer) -> None:
    response = me(client, sign(claims(OIDC_ISSUER, aud=AUDIENCE, sub="oidc-user")))
    assert response.status_code == 200, response.content
    assert response.json()["sub"] == "oidc-user"
    assert response.json()["auth"] == "oidc"
    assert oidc.paths == ["/.well-known/jwks.json"]


def test_oidc_steady_state_makes_no_fetch(client: Client, oidc: JWKSServer) -> None:
    for _ in range(20):
        assert me(client, sign(claims(OIDC_ISSUER, aud=AUDIENCE))).status_code == 200
    assert oidc.hits == 1


def test_clerk_token(client: Client, clerk: JWKSServer) -> None:
    response = me(client, clerk_token(sub="user_2xyz"))
    assert response.status_code == 200, response.content
    assert response.json() == {"sub": "user_2xyz", "auth": "clerk", "mfa": False}


def test_clerk_default_jwks_url_from_issuer(
    client: Client, clerk_server: JWKSServer, settings: Any
) -> None:
    add_issuer(settings, preset="clerk", issuer=clerk_server.base, authorized_parties=[APP])
    token = sign(claims(clerk_server.base, sid="s", azp=APP), rsa_key("clerk"), kid="ins_1")
    assert me(client, token).status_code == 200
    assert clerk_server.paths == ["/.well-known/jwks.json"]


def test_clerk_networkless_pem(client: Client, settings: Any) -> None:
    add_issuer(
        settings, preset="clerk", issuer=CLERK_ISSUER, public_key=public_pem(rsa_key("clerk"))
    )
    assert me(client, clerk_token()).status_code == 200
    assert me(client, sign(clerk_claims(), rsa_key("other"), kid="ins_1")).status_code == 401


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"sid": None}, "missing_claim"),
        ({"azp": None}, "azp"),
        ({"azp": "https://evil.example.com"}, "azp"),
        ({"sts": "pending"}, "pending_session"),
    ],
)
def test_clerk_rejections(
    client: Client, clerk: JWKSServer, changes: dict[str, Any], reason: str
) -> None:
    response = me(client, clerk_token(**changes))
    assert response.status_code == 401
    assert f"({reason})" in response.json()["detail"]


def test_clerk_pending_allowed_when_configured(
    client: Client, clerk: JWKSServer, settings: Any
) -> None:
    update_issuer(settings, "clerk", allow_pending=True)
    assert me(client, clerk_token(sts="pending")).status_code == 200


def test_clerk_org_claims_exposed(clerk: JWKSServer) -> None:
    from django.test import RequestFactory

    from hardening.jwt.auth import authenticate

    token = clerk_token(o={"id": "org_1", "slg": "acme", "rol": "admin", "per": "read,manage"})
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}")
    result = authenticate(request)
    assert result is not None
    assert result.claims["org_id"] == "org_1"
    assert result.claims["org_slug"] == "acme"
    assert result.claims["org_role"] == "org:admin"
    assert result.claims["org_permissions"] == ["read", "manage"]


def test_clerk_session_cookie_is_opt_in_and_csrf_protected(
    clerk: JWKSServer, settings: Any
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.cookies["__session"] = clerk_token()
    assert client.get("/api/me").status_code == 401  # cookie ignored by default
    update_issuer(settings, "clerk", session_cookie=True)
    response = client.get("/api/me")
    assert response.status_code == 200
    assert response.json()["auth"] == "clerk"
    # Unsafe method without a CSRF token: refused.
    assert client.post("/api/auth/logout", {}, content_type="application/json").status_code in (
        401,
        403,
    )


def test_cookie_only_accepts_clerk_tokens(
    client: Client, clerk: JWKSServer, oidc: JWKSServer, settings: Any
) -> None:
    update_issuer(settings, "clerk", session_cookie=True)
    client.cookies["__session"] = sign(claims(OIDC_ISSUER, aud=AUDIENCE))
    assert client.get("/api/me").status_code == 401


def test_clerk_and_oidc_together(client: Client, clerk: JWKSServer, oidc: JWKSServer) -> None:
    assert me(client, clerk_token()).json()["auth"] == "clerk"
    assert me(client, sign(claims(OIDC_ISSUER, aud=AUDIENCE))).json()["auth"] == "oidc"
    # An OIDC-signed token claiming to be from Clerk fails: keys are per issuer.
    assert me(client, sign(clerk_claims(), rsa_key(), kid="ins_1")).status_code == 401


def test_create_user_mode(
    client: Client, oidc: JWKSServer, settings: Any, django_user_model: Any
) -> None:
    settings.HARDENING_JWT_USER_MODE = "create"
    token = sign(claims(OIDC_ISSUER, aud=AUDIENCE, sub="ext-1"))
    first = me(client, token).json()
    second = me(client, sign(claims(OIDC_ISSUER, aud=AUDIENCE, sub="ext-1"))).json()
    user = django_user_model.objects.get(username="oidc:ext-1")
    assert first["sub"] == second["sub"] == str(user.pk)
    assert not user.has_usable_password()


def test_create_user_mode_caches_the_user_and_honours_deactivation(
    oidc: JWKSServer, settings: Any, django_user_model: Any
) -> None:
    """After the first request the user is found by the primary key cached for it (one
    query, no insert); a stale cache entry never yields another user; a deactivated user is
    refused even from the cache."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hardening.jwt.issuers import external_user, issuer_for
    from hardening.jwt.jws import TokenRejected

    settings.HARDENING_JWT_USER_MODE = "create"
    issuer = issuer_for(OIDC_ISSUER)
    assert issuer is not None
    verified = claims(OIDC_ISSUER, aud=AUDIENCE, sub="ext-cached")
    with CaptureQueriesContext(connection) as first:
        user = external_user(verified, issuer)
    assert any("INSERT" in q["sql"] for q in first.captured_queries)
    with CaptureQueriesContext(connection) as second:
        assert external_user(verified, issuer).pk == user.pk
    sql = [q["sql"] for q in second.captured_queries]
    assert len(sql) == 1 and '"id" =' in sql[0] and "INSERT" not in sql[0], sql
    # A stale entry (say, the cache outlived a database restore) pointing at someone else:
    other = django_user_model.objects.create_user("someone-else")
    import hashlib

    from django.core.cache import cache

    digest = hashlib.sha256(f"{issuer.label}:ext-cached".encode()).hexdigest()
    cache.set("hardening:jwt:user:" + digest, other.pk)
    assert external_user(verified, issuer).pk == user.pk
    django_user_model.objects.filter(pk=user.pk).update(is_active=False)
    with pytest.raises(TokenRejected):
        external_user(verified, issuer)


def test_jwks_down_then_stale_keys_keep_working(
    client: Client, oidc: JWKSServer, settings: Any
) -> None:
    assert me(client, sign(claims(OIDC_ISSUER, aud=AUDIENCE))).status_code == 200
    oidc.status = 503
    assert me(client, sign(claims(OIDC_ISSUER, aud=AUDIENCE))).status_code == 200


def test_expired_clerk_token_reports_expired(client: Client, clerk: JWKSServer) -> None:
    now = int(time.time())
    response = me(client, clerk_token(exp=now - 100, iat=now - 160))
    assert "(expired)" in response.json()["detail"]


def test_per_kind_authentication_classes_accept_their_kind_only(
    clerk: JWKSServer, oidc: JWKSServer
) -> None:
    """OwnTokenAuthentication, ClerkAuthentication and OIDCAuthentication answer None for a
    valid token of another kind (so the next class in DEFAULT_AUTHENTICATION_CLASSES can
    try), and still refuse a bad token with 401."""
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory
    from rest_framework.exceptions import AuthenticationFailed
    from rest_framework.request import Request

    from hardening.jwt.auth import (
        BearerTokenAuthentication,
        ClerkAuthentication,
        OIDCAuthentication,
        OwnTokenAuthentication,
    )
    from hardening.jwt.tokens import issue_token_pair

    owner = get_user_model().objects.create_user("kinds-owner", password="x-123456789")
    tokens = {
        "jwt": issue_token_pair(owner, amr=["pwd"], auth_time=int(time.time()))["access"],
        "clerk": clerk_token(sub="user_kinds"),
        "oidc": sign(claims(OIDC_ISSUER, aud=AUDIENCE, sub="oidc-kinds")),
    }
    classes = {
        "jwt": OwnTokenAuthentication,
        "clerk": ClerkAuthentication,
        "oidc": OIDCAuthentication,
    }

    def run(cls: type[BearerTokenAuthentication], token: str) -> Any:
        request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}")
        return cls().authenticate(Request(request))

    for kind, cls in classes.items():
        for token_kind, token in tokens.items():
            result = run(cls, token)
            if token_kind == kind:
                assert result is not None and result[1]["iss" if kind != "jwt" else "jti"], kind
            else:
                assert result is None, (kind, token_kind)
        with pytest.raises(AuthenticationFailed):
            run(cls, tokens["oidc"][:-4] + "AAAA")  # a bearer token that does not verify
    for token in tokens.values():
        assert run(BearerTokenAuthentication, token) is not None


def test_an_issuer_whose_public_key_is_unreadable_refuses_its_tokens(
    client: Client, settings: Any
) -> None:
    """A broken ``public_key`` (reported by the checks) is a 401, never a 500."""
    add_issuer(settings, issuer=OIDC_ISSUER, public_key="not a pem", audience=AUDIENCE)
    response = me(client, sign(claims(OIDC_ISSUER, aud=AUDIENCE, sub="oidc-user")))
    assert response.status_code == 401
    assert "(unknown_key)" in response.json()["detail"]
