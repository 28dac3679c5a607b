"""What token revocation costs per request (median µs per call; issue 12 item 7).

    HARDENING_TEST_REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/revocation_micro.py

Measures, against a real Redis: ``check_not_revoked`` with access revocation off (no
round trip) and on (one ``get_many`` round trip for the ``jti`` and the refresh family),
the former single ``get`` it replaces, and the ``pwv`` password fingerprint that
``own_user`` checks on every request (no round trip: the user row is loaded anyway).

Then the whole per-request Redis cost of a bearer request with revocation on, default
policies: before, the limiter's EVALSHA plus the separate ``get_many``; after, the one
EVALSHA carrying the revocation keys (``hardening.ratelimit.decision.Revocation``).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")


def median_us(fn: Callable[[], object], number: int = 2000, repeats: int = 7) -> float:
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number * 1e6)
    return statistics.median(runs)


def interleaved(
    fns: dict[str, Callable[[], object]], number: int = 500, repeats: int = 15
) -> dict[str, float]:
    """Median µs per call of each function, their runs interleaved (a loaded box drifts)."""
    runs: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(number):
                fn()
            runs[name].append((time.perf_counter() - start) / number * 1e6)
    return {name: statistics.median(values) for name, values in runs.items()}


def main() -> None:
    if not os.environ.get("HARDENING_TEST_REDIS_URL"):
        sys.exit("set HARDENING_TEST_REDIS_URL=redis://127.0.0.1:6379/0")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.cache import caches
    from django.test import override_settings

    from hardening.jwt import tokens

    redis = caches["redis"]
    claims = {"jti": uuid.uuid4().hex, "fam": uuid.uuid4().hex}
    user = User(username="bench", password="pbkdf2_sha256$1000000$salt$" + "x" * 44)
    results = {}
    # The production cache is Redis: HARDENING_CACHE holds the revocation keys.
    with override_settings(HARDENING_CACHE="redis", HARDENING_JWT_REVOKE_ACCESS_TOKENS=False):
        results["check_not_revoked, revocation off"] = median_us(
            lambda: tokens.check_not_revoked(claims)
        )
    with override_settings(HARDENING_CACHE="redis", HARDENING_JWT_REVOKE_ACCESS_TOKENS=True):
        results["check_not_revoked, on (get_many: jti + family)"] = median_us(
            lambda: tokens.check_not_revoked(claims)
        )
    key = "hardening:jwt:revoked:" + claims["jti"]
    results["previous check: one cache.get"] = median_us(lambda: redis.get(key))
    results["pwv fingerprint (own_user, no I/O)"] = median_us(
        lambda: tokens.password_unchanged({"pwv": "0" * 16}, user)
    )
    from hardening.ratelimit.conf import config
    from hardening.ratelimit.decision import Check, Revocation
    from hardening.ratelimit.limiter import Limiter
    from hardening.ratelimit.policy import Rate

    with override_settings(HARDENING_CACHE="redis", HARDENING_JWT_REVOKE_ACCESS_TOKENS=True):
        cfg = config()
        uid, ip = "u:bench-" + uuid.uuid4().hex[:8], "ip:192.0.2.1"
        huge = Rate(10**9, 60)  # never reached: every call counts, as an admitted request
        by_name = {p.name: p for p in cfg.policies}  # the default policies
        user_p, anon_p, global_p = by_name["user"], by_name["ip"], by_name["global"]
        checks = [Check(user_p, huge, uid, uid), Check(global_p, huge, "*", None)]
        anon = [Check(anon_p, huge, ip, ip), Check(global_p, huge, "*", None)]
        revocation = Revocation(tokens.revocation_keys(claims), anon, [ip])
        limiter = Limiter()

        def before() -> None:
            limiter.decide(checks, [uid, ip], cfg)
            tokens.check_not_revoked(claims)

        results.update(
            interleaved(
                {
                    "bearer request before: EVALSHA + get_many": before,
                    "bearer request after: one EVALSHA with the lookup": lambda: limiter.decide(
                        checks, [uid, ip], cfg, revocation
                    ),
                    "limiter alone (revocation off)": lambda: limiter.decide(
                        checks, [uid, ip], cfg
                    ),
                }
            )
        )
    for name, value in results.items():
        print(f"{name:55s} {value:8.1f} µs")


if __name__ == "__main__":
    main()
