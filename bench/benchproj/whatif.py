"""Candidate fixes for the hardening hot path, as monkeypatches (nothing in ``hardening/``
is changed).  Used by ``bench/whatif.py`` (in-process) and, with ``PERF_WHATIF``, by the
``hardening+fixes`` HTTP variant of ``bench/run.py`` (applied in ``benchproj.wsgi``).

* ``token_cache``: ``hardening.jwt.auth.verify_token`` answers a token it verified before
  from a per-process dict (keyed by the raw token, dropped at ``exp``);
* ``lease``: the limiter asks Redis for 1 request in 8 and admits the 7 others locally
  (what a local lease/deferred count of 8 would cost);
* ``ping_only``: the limiter sends a ``PING`` instead of its script (the round trip alone);
* ``no_redis``: the limiter builds its keys and arguments but sends nothing (its Python).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any


@contextlib.contextmanager
def token_cache() -> Iterator[None]:
    from hardening.jwt import auth

    original = auth.verify_token
    memo: dict[str, tuple[float, Any]] = {}

    def cached(raw: str, *, from_cookie: bool = False, **kwargs: Any) -> Any:
        hit = memo.get(raw)
        if hit is not None and hit[0] > time.time():
            return hit[1]
        result = original(raw, from_cookie=from_cookie, **kwargs)
        memo[raw] = (float(result[0].get("exp", 0)), result)
        return result

    auth.verify_token = cached  # type: ignore[assignment]
    try:
        yield
    finally:
        auth.verify_token = original


@contextlib.contextmanager
def lease(every: int = 8) -> Iterator[None]:
    from hardening.ratelimit.limiter import Decision, Limiter

    original = Limiter.decide
    counter = {"n": 0}

    def decide(self: Limiter, checks: Any, identities: Any, cfg: Any) -> Decision:
        counter["n"] += 1
        if counter["n"] % every:
            return Decision()  # admitted from the local lease
        return original(self, checks, identities, cfg)

    Limiter.decide = decide  # type: ignore[method-assign]
    try:
        yield
    finally:
        Limiter.decide = original  # type: ignore[method-assign]


@contextlib.contextmanager
def _redis_replaced(send: bool) -> Iterator[None]:
    from hardening.ratelimit.limiter import Decision, Limiter

    original = Limiter._redis

    def replaced(self: Limiter, client: Any, prefix: Any, *args: Any) -> Decision:
        if send:
            client.ping()
        return Decision()

    Limiter._redis = replaced  # type: ignore[method-assign]
    try:
        yield
    finally:
        Limiter._redis = original  # type: ignore[method-assign]


def ping_only() -> contextlib.AbstractContextManager[None]:
    return _redis_replaced(send=True)


def no_redis() -> contextlib.AbstractContextManager[None]:
    return _redis_replaced(send=False)


@contextlib.contextmanager
def both() -> Iterator[None]:
    with token_cache(), lease():
        yield


PATCHES: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
    "token-cache": token_cache,
    "lease": lease,
}


_ACTIVE: list[contextlib.AbstractContextManager[None]] = []


def apply(names: str) -> list[str]:
    """Enter the named patches for the life of the process (``PERF_WHATIF=a,b``).

    The context managers are kept referenced: a collected generator would run its
    ``finally`` and undo the patch."""
    applied = []
    for name in filter(None, (n.strip() for n in names.split(","))):
        manager = PATCHES[name]()
        manager.__enter__()
        _ACTIVE.append(manager)
        applied.append(name)
    return applied
