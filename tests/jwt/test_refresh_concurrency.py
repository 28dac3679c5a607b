"""Refresh-token rotation under real concurrency: PostgreSQL, one connection per thread.

The family row names the one refresh token that may be refreshed and a refresh replaces it
with one conditional UPDATE, so of several refreshes of the same token at once exactly one
wins; the others present a token that is no longer current, which is reuse: the family ends.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from hardening.jwt.models import TokenFamily

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json")


def refresh_at_once(token: str, n: int) -> list[Any]:
    """``n`` refreshes of ``token`` released together, each on its own connection."""
    barrier = threading.Barrier(n)

    def run(i: int) -> Any:
        try:
            barrier.wait(timeout=30)
            return post(Client(), "/api/auth/token/refresh", {"refresh": token})
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


@pytest.fixture
def pair(django_user_model: Any, settings: Any) -> dict[str, str]:
    settings.HARDENING_RATELIMIT_ENABLED = False  # another capability; only 429s here
    django_user_model.objects.create_user("alice", password=PASSWORD)
    response = post(Client(), "/api/auth/token", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200, response.content
    return dict(response.json())


def test_is_postgres() -> None:
    assert connection.vendor == "postgresql"


@pytest.mark.parametrize("n", [2, 16])
def test_concurrent_refreshes_of_one_token_exactly_one_succeeds(
    pair: dict[str, str], n: int, events: Any
) -> None:
    responses = refresh_at_once(pair["refresh"], n)
    assert Counter(r.status_code for r in responses) == {200: 1, 401: n - 1}
    (family,) = TokenFamily.objects.all()
    # The losers presented a token that was no longer current: reuse, the family ended.
    assert family.ended_at is not None and family.end_reason == "reuse"
    assert [f for e, f in events if e == "token.reuse_detected"]
    (winner,) = [r.json() for r in responses if r.status_code == 200]
    assert (
        post(Client(), "/api/auth/token/refresh", {"refresh": winner["refresh"]}).status_code == 401
    )
