from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings


@pytest.fixture(autouse=True, scope="session")
def _delete_own_redis_keys() -> Iterator[None]:
    """Remove the rate-limit keys this run wrote under its own key prefix (never a flush)."""
    yield
    if "redis" not in settings.CACHES:
        return
    from django.core.cache import caches

    from hardening.ratelimit.limiter import redis_client

    cache = caches["redis"]
    client = redis_client(cache)
    if client is None:
        return
    keys = list(client.scan_iter(match=cache.make_key("hrl:*"), count=1000))
    if keys:
        client.delete(*keys)
