from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches

from hardening.jwt.verify import clear_memo


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> Iterator[None]:
    caches["default"].clear()  # connect rate limits and revocations start empty
    clear_memo()
    yield
    caches["default"].clear()
    clear_memo()


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("ws-alice", password="a long enough password")


@pytest.fixture
def access(user: Any) -> str:
    from hardening.jwt.tokens import issue_token_pair

    return issue_token_pair(user, amr=["pwd"])["access"]
