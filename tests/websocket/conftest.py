from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.db import connections

from hardening.jwt.verify import clear_memo
from tests.websocket.helpers import in_worker_thread


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> Iterator[None]:
    caches["default"].clear()  # connect rate limits and revocations start empty
    clear_memo()
    yield
    caches["default"].clear()
    clear_memo()
    in_worker_thread(connections.close_all)  # PostgreSQL: the test database can be dropped


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("ws-alice", password="a long enough password")


@pytest.fixture
def access(user: Any) -> str:
    from hardening.jwt.tokens import issue_token_pair

    return issue_token_pair(user, amr=["pwd"])["access"]
