"""In-process cost of the rate-limit check against a local Redis (not a test).

    .venv/bin/python bench/ratelimit_bench.py [--redis redis://127.0.0.1:6379/0] [-n 5000]

Target (docs/ratelimit.md): <= 1 Redis round trip and <= 200 us per request.  For
reference it also times django-ratelimit's ``is_ratelimited`` (one policy, fixed window)
on the same cache.  Keys go under a unique prefix and are deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("-n", type=int, default=5000)
    args = parser.parse_args()
    prefix = f"bench-rl-{uuid.uuid4().hex[:12]}"
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "example_project.settings",
            "DJANGO_ENV": "development",
            "CACHE_URL": f"{args.redis}?key_prefix={prefix}",
            "RATE_LIMIT_USER": "1000000000/m",
            "RATE_LIMIT_GLOBAL": "1000000000/m",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    import redis
    from django.core.cache import caches
    from django.http import HttpRequest, HttpResponse
    from django.test import RequestFactory
    from django_ratelimit.core import is_ratelimited

    from hardening.ratelimit.limiter import redis_client
    from hardening.ratelimit.middleware import RateLimitMiddleware

    class User:
        is_authenticated = True
        pk = 42

    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    calls = 0
    original = redis.Redis.execute_command

    def counting(self: redis.Redis, *a: object, **kw: object) -> object:
        nonlocal calls
        calls += 1
        return original(self, *a, **kw)

    redis.Redis.execute_command = counting  # type: ignore[method-assign]
    factory = RequestFactory()
    middleware = RateLimitMiddleware(view)

    def one_request() -> None:
        request = factory.get("/api/me", REMOTE_ADDR="192.0.2.1")
        request.user = User()  # type: ignore[assignment]
        middleware.check(request)

    def ratelimit_decorator_equivalent() -> None:
        request = factory.get("/api/me", REMOTE_ADDR="192.0.2.1")
        request.user = User()  # type: ignore[assignment]
        is_ratelimited(request, group="bench", key="user", rate="1000000000/m", increment=True)

    def build_only() -> None:
        request = factory.get("/api/me", REMOTE_ADDR="192.0.2.1")
        request.user = User()  # type: ignore[assignment]

    from django.test import override_settings

    client = redis_client(caches["default"])

    def ping() -> None:
        client.ping()

    results = {}
    with override_settings(RATELIMIT_USE_CACHE="default"):
        for name, fn in (
            ("RequestFactory only (baseline)", build_only),
            ("redis PING (one round trip, floor)", ping),
            ("hardening RateLimitMiddleware.check", one_request),
            ("django-ratelimit is_ratelimited", ratelimit_decorator_equivalent),
        ):
            for _ in range(200):  # warm up: connections, EVALSHA cached
                fn()
            calls = 0
            samples = []
            for _ in range(args.n):
                start = time.perf_counter_ns()
                fn()
                samples.append(time.perf_counter_ns() - start)
            results[name] = (statistics.median(samples) / 1000, calls / args.n, samples)

    base = results["RequestFactory only (baseline)"][0]
    print(f"requests: {args.n} per case, Redis {args.redis}, policies: user + global (example)")
    for name, (median_us, trips, samples) in results.items():
        p95 = sorted(samples)[int(len(samples) * 0.95)] / 1000
        print(f"{name:40s} median {median_us:7.1f} us  p95 {p95:7.1f} us  round trips {trips:.2f}")
    check_us = results["hardening RateLimitMiddleware.check"][0] - base
    trips = results["hardening RateLimitMiddleware.check"][1]
    print(f"rate-limit check cost (median minus baseline): {check_us:.1f} us, {trips:.2f} trips")
    print(
        "target <= 200 us and <= 1 round trip:",
        "MET" if check_us <= 200 and trips <= 1 else "MISSED",
    )

    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)


if __name__ == "__main__":
    main()
