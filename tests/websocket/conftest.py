from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from asgiref.sync import SyncToAsync
from django.core.cache import caches
from django.db import connections

from hardening.jwt.verify import clear_memo

T = TypeVar("T")


def in_worker_thread(function: Callable[[], T]) -> T:
    """Run ``function`` on asgiref's thread for thread-sensitive work outside a request
    (where an async test's ``sync_to_async`` calls run: the handshake's database work)."""
    return SyncToAsync.single_thread_executor.submit(function).result(timeout=30)


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
