"""Through real gunicorn (WSGI) and uvicorn (ASGI) processes: own tokens, Clerk and OIDC
at /api/me, with the JWKS served on loopback."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.jwt.helpers import JWKSServer, claims, jwk, rsa_key, sign
from tests.servers import run_until_exit, serve

pytestmark = pytest.mark.server

CLERK = "https://clerk.example.com"
OIDC = "https://login.example.com/"
APP = "https://app.example.com"


@pytest.mark.parametrize("kind", ["gunicorn", "uvicorn"])
def test_server_accepts_all_three_kinds(tmp_path: Path, kind: str) -> None:
    with (
        JWKSServer([jwk(rsa_key("clerk"), "ins_1")]) as clerk,
        JWKSServer([jwk(rsa_key(), "k1")]) as oidc,
    ):
        env = {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "CLERK_ISSUER": CLERK,
            "CLERK_JWKS_URL": clerk.url,
            "CLERK_AUTHORIZED_PARTIES": APP,
            "OIDC_ISSUER": OIDC,
            "OIDC_JWKS_URL": oidc.url,
            "OIDC_AUDIENCE": "api",
        }
        manage = [sys.executable, "example_project/manage.py"]
        done = run_until_exit([*manage, "migrate", "--noinput"], env=env, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        script = (
            "from django.contrib.auth import get_user_model as g;"
            "g().objects.create_user('bob', password='a long enough password')"
        )
        done = run_until_exit([*manage, "shell", "-c", script], env=env, timeout=60)
        assert done.returncode == 0, done.stderr[-2000:]

        with serve(kind, env=env, tmp_path=tmp_path) as server:
            anonymous = server.get("/api/me")
            assert anonymous.status == 401
            assert anonymous.headers["www-authenticate"].startswith("Bearer")

            login = server.request(
                "/api/auth/token",
                method="POST",
                headers={"Content-Type": "application/json"},
                data=json.dumps({"username": "bob", "password": "a long enough password"}).encode(),
            )
            assert login.status == 200, login.body
            access = login.json()["access"]  # type: ignore[index]

            def me(token: str) -> tuple[int, object]:
                reply = server.get("/api/me", headers={"Authorization": f"Bearer {token}"})
                return reply.status, reply.json()

            status, body = me(access)
            assert status == 200 and body["auth"] == "jwt"  # type: ignore[index]

            clerk_token = sign(
                claims(CLERK, sid="sess_1", azp=APP, sub="user_1"), rsa_key("clerk"), kid="ins_1"
            )
            status, body = me(clerk_token)
            assert status == 200, body
            assert body == {"sub": "user_1", "auth": "clerk", "mfa": False}

            status, body = me(sign(claims(OIDC, aud="api", sub="o-1")))
            assert status == 200 and body["auth"] == "oidc"  # type: ignore[index]

            forged = sign(claims(OIDC, aud="api"), rsa_key("attacker"))
            status, body = me(forged)
            assert status == 401
            assert "signature" in body["detail"]  # type: ignore[index]

            for _ in range(5):
                assert me(clerk_token)[0] == 200
            assert clerk.hits == 1 and oidc.hits == 1  # steady state: no fetch per request
