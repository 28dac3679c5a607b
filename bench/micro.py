"""Microbenchmarks of the hot-path operations (median µs per call, interleaved repeats).

    .venv/bin/python bench/micro.py [--repeats 7] [--number 300]

Pins down what ``bench/inproc.py`` attributes to each middleware: the Redis round trip
itself, hardening's one-round-trip rate-limit decision vs django-ratelimit's, the JWT
verification path and its parts, the timeout watchdog registration, a settings read.
Results go to the ``micro`` section of ``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import os
import socket
import time
from collections.abc import Callable
from typing import Any

import inproc
import report
from common import log


def operations(tokens: dict[str, Any]) -> dict[str, Callable[[], object]]:
    import jwt
    from benchproj import keys
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory
    from django_ratelimit.core import is_ratelimited
    from django_redis import get_redis_connection
    from rest_framework.request import Request
    from rest_framework_simplejwt.authentication import JWTAuthentication

    from hardening.conf import conf
    from hardening.jwt.auth import verify_token
    from hardening.jwt.issuers import issuer_for
    from hardening.jwt.jws import parse
    from hardening.jwt.verify import verify_external
    from hardening.ratelimit.middleware import RateLimitMiddleware
    from hardening.timeout.deadline import Deadline
    from hardening.timeout.watchdog import watchdog

    factory = RequestFactory()
    h_token, p_token = tokens["hardening"], tokens["peer"]
    iss = os.environ["PERF_ISSUER"]
    redis = get_redis_connection(conf.HARDENING_CACHE)
    public = keys.public_pem(__import__("pathlib").Path(os.environ["PERF_KEYDIR"]))
    prepared = jwt.algorithms.RSAAlgorithm(jwt.algorithms.RSAAlgorithm.SHA256).prepare_key(public)
    claims, user, _kind = verify_token(h_token)
    limiter = RateLimitMiddleware(lambda r: None)  # type: ignore[arg-type,return-value]

    def ratelimit_hardening() -> object:
        request = factory.get("/api/ping")
        request.user = user
        return limiter.check(request)

    def ratelimit_peer() -> object:
        request = factory.get("/api/ping")
        request.user = AnonymousUser()
        return is_ratelimited(request, group="ping", key="ip", rate="1000000000/m", increment=True)

    jwt_auth = JWTAuthentication()

    def simplejwt_authenticate() -> object:
        return jwt_auth.authenticate(
            Request(factory.get("/", HTTP_AUTHORIZATION=f"Bearer {p_token}"))
        )

    def watchdog_cycle() -> None:
        deadline = Deadline(budget=30.0)
        watchdog.register(deadline)
        watchdog.unregister(deadline)

    # Capture the exact EVALSHA the rate limiter sends, to replay it raw.
    from hardening.clientip import client_ip
    from hardening.ratelimit.decorators import view_policies
    from hardening.ratelimit.ip import masked_ip
    from hardening.timeout.middleware import budget_for_path

    captured: list[tuple[Any, ...]] = []
    original = type(redis).evalsha

    def spy(self: Any, *a: Any) -> Any:
        captured.append(a)
        return original(self, *a)

    type(redis).evalsha = spy  # type: ignore[method-assign]
    try:
        ratelimit_hardening()
    finally:
        type(redis).evalsha = original  # type: ignore[method-assign]
    evalsha_args = captured[0] if captured else None
    plain = factory.get("/api/ping", REMOTE_ADDR="127.0.0.1")

    parsed = parse(h_token)
    issuer = issuer_for(iss)
    assert issuer is not None
    where = redis.connection_pool.connection_kwargs
    sock = socket.create_connection((where.get("host", "127.0.0.1"), where.get("port", 6379)))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def raw_ping() -> bytes:
        sock.sendall(b"*1\r\n$4\r\nPING\r\n")
        return sock.recv(64)

    return {
        "redis PING (round-trip reference)": redis.ping,
        "  raw socket PING, no client library (the loopback floor)": raw_ping,
        "hardening rate limit check (1 EVALSHA)": ratelimit_hardening,
        "  raw EVALSHA of the limiter's script (same keys/args)": (
            (lambda: redis.evalsha(*evalsha_args)) if evalsha_args else redis.ping
        ),
        "  client_ip + masked_ip (ipaddress.ip_network)": lambda: masked_ip(client_ip(plain)),
        "  view_policies (a second URL resolve)": lambda: view_policies(plain),
        "django-ratelimit is_ratelimited (peer)": ratelimit_peer,
        "hardening verify_token (parse+issuer+JWKS key+decode)": lambda: verify_token(h_token),
        "  parse (structure checks)": lambda: parse(h_token),
        "  issuer_for (rebuilds issuers from settings)": lambda: issuer_for(iss),
        "  verify_external (key lookup + PyJWT decode + claims)": lambda: verify_external(
            parsed, issuer
        ),
        "PyJWT decode RS256, pre-loaded key": lambda: jwt.decode(
            h_token, prepared, algorithms=["RS256"], audience="bench", issuer=iss
        ),
        "simplejwt authenticate RS256 + user SELECT (peer)": simplejwt_authenticate,
        "timeout watchdog register+unregister": watchdog_cycle,
        "timeout budget_for_path": lambda: budget_for_path("/api/ping"),
        "one conf.HARDENING_* settings read": lambda: conf.HARDENING_CACHE,
        "RequestFactory.get (harness overhead)": lambda: factory.get("/api/ping"),
    }


def evalsha_stats() -> tuple[int, int]:
    """(calls, µs) of EVALSHA in the rate-limit Redis server's INFO commandstats."""
    from django_redis import get_redis_connection

    from hardening.conf import conf

    stats = get_redis_connection(conf.HARDENING_CACHE).info("commandstats")
    entry = stats.get("cmdstat_evalsha", {})
    return int(entry.get("calls", 0)), int(entry.get("usec", 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--number", type=int, default=300)
    args = parser.parse_args()
    os.environ["PERF_VARIANT"] = "all"
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchproj.settings"
    import django

    samples: dict[str, list[float]] = {}
    with inproc.environment(False) as tokens:
        django.setup()
        ops = operations(tokens)
        before = evalsha_stats()
        for fn in ops.values():
            for _ in range(20):
                fn()
        for repeat in range(args.repeats):
            names = list(ops)
            names = names[repeat % len(names) :] + names[: repeat % len(names)]
            for name in names:
                fn = ops[name]
                started = time.perf_counter()
                for _ in range(args.number):
                    fn()
                samples.setdefault(name, []).append(
                    (time.perf_counter() - started) / args.number * 1e6
                )
        after = evalsha_stats()
    rows = [
        {"operation": name, "median_us": report.median(values)} for name, values in samples.items()
    ]
    calls = after[0] - before[0]
    if calls > 0:  # Redis's own accounting: time spent inside EVALSHA, server side
        name = "  EVALSHA time inside Redis (INFO commandstats, mean)"
        rows.insert(3, {"operation": name, "median_us": (after[1] - before[1]) / calls})
    for row in rows:
        print(f"{row['operation']:<58} {row['median_us']:9.1f} µs")
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    section = {"started": started, "repeats": args.repeats, "number": args.number, "rows": rows}
    path = report.save("micro", section)
    log(f"wrote {path}")


if __name__ == "__main__":
    main()
