"""The contract of issue 17 through the real commands and real servers (gunicorn, uvicorn):
``create_api_key`` prints one line, the key; ``/api/me`` with ``Authorization: Api-Key``
answers 200 ``"auth": "api_key"``; after ``revoke_api_key`` the same request is 401 JSON with
``WWW-Authenticate``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.servers import run_until_exit, serve

pytestmark = pytest.mark.server

MANAGE = [sys.executable, "example_project/manage.py"]


@pytest.mark.parametrize("kind", ["gunicorn", "uvicorn"])
def test_create_use_revoke(tmp_path: Path, kind: str) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    done = run_until_exit([*MANAGE, "migrate", "--noinput"], env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    script = (
        "from django.contrib.auth import get_user_model as g;"
        "print(g().objects.create_user('alice').pk)"
    )
    done = run_until_exit([*MANAGE, "shell", "-c", script], env=env, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    alice = done.stdout.strip().splitlines()[-1]

    done = run_until_exit(
        [*MANAGE, "create_api_key", "--user", "alice", "--scopes", "read"], env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout  # the key and nothing else
    key = lines[0]
    assert key.startswith("hk_dev_")
    public_id = key.split("_")[2]

    with serve(kind, env=env, tmp_path=tmp_path) as server:
        answer = server.get("/api/me", headers={"Authorization": f"Api-Key {key}"})
        assert answer.status == 200, answer.body
        body = answer.json()
        assert isinstance(body, dict)
        assert body["sub"] == alice and body["auth"] == "api_key"

        done = run_until_exit([*MANAGE, "revoke_api_key", public_id], env=env, timeout=60)
        assert done.returncode == 0, done.stderr[-2000:]

        refused = server.get("/api/me", headers={"Authorization": f"Api-Key {key}"})
        assert refused.status == 401
        assert refused.headers["content-type"].startswith("application/json")
        assert refused.headers["www-authenticate"].startswith("Api-Key")
        error = refused.json()
        assert isinstance(error, dict) and error["error"] and error["request_id"]
        assert key not in server.output()  # never logged
