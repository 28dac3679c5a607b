"""Readiness-probe latency with healthy services (not a test; prints figures).

    .venv/bin/python bench/health_bench.py [--requests 1000] [--workers 1]

Starts a disposable PostgreSQL cluster and Redis server (never the shared ones), migrates
the example project onto them, runs it under gunicorn, and times sequential
``GET /health/ready`` from loopback (detailed body) in three modes:

* ``uncached``: no result cache (``bench/health_uncached.py``) -- every probe runs every check
  (database ``SELECT 1``, migrations, cache round trip, disk);
* ``cached``: the default 1 s result cache (what a probe flood costs);
* ``live``: ``GET /health/live`` for reference;
* ``pg hung``: PostgreSQL stopped with SIGSTOP, no result cache: the first probe waits
  for the 2 s timeout, later ones reuse the blocked call (single flight) and answer at once.

Each request opens a new TCP connection (like kubelet); figures include that.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.services import pg_cluster, redis_server  # noqa: E402
from tests.servers import Server, run_until_exit, serve  # noqa: E402

CACHED = "example_project.wsgi:application"  # the 1 s result cache
UNCACHED = "bench.health_uncached:application"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def measure(server: Server, path: str, requests: int) -> tuple[list[float], dict[int, int]]:
    for _ in range(20):  # warm-up: connections, imports, migration graph
        server.get(path)
    timings: list[float] = []
    statuses: dict[int, int] = {}
    for _ in range(requests):
        start = time.perf_counter()
        reply = server.get(path)
        timings.append((time.perf_counter() - start) * 1000)
        statuses[reply.status] = statuses.get(reply.status, 0) + 1
    return timings, statuses


def measure_hung(server: Server, requests: int) -> tuple[list[float], dict[int, int]]:
    timings: list[float] = []
    statuses: dict[int, int] = {}
    for _ in range(requests):
        start = time.perf_counter()
        reply = server.get("/health/ready", timeout=30)
        timings.append((time.perf_counter() - start) * 1000)
        statuses[reply.status] = statuses.get(reply.status, 0) + 1
    return timings, statuses


def report(name: str, timings: list[float], statuses: dict[int, int]) -> None:
    print(
        f"{name:<9} n={len(timings):<5} p50={statistics.median(timings):6.2f} ms  "
        f"p95={percentile(timings, 95):6.2f} ms  p99={percentile(timings, 99):6.2f} ms  "
        f"max={max(timings):6.2f} ms  statuses={statuses}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    with pg_cluster() as pg, redis_server() as redis, tempfile.TemporaryDirectory() as tmp:
        base = {"DATABASE_URL": pg.url, "CACHE_URL": redis.url}
        migrate = run_until_exit(
            [sys.executable, "example_project/manage.py", "migrate", "--noinput"], env=base
        )
        if migrate.returncode:
            raise SystemExit(migrate.stderr[-2000:])
        print(
            f"gunicorn sync x{args.workers}, disposable PostgreSQL + Redis on loopback, "
            f"{args.requests} sequential requests per mode"
        )
        for name, path, wsgi in (
            ("uncached", "/health/ready", UNCACHED),
            ("cached", "/health/ready", CACHED),
            ("live", "/health/live", CACHED),
        ):
            with serve(
                "gunicorn",
                env=base,
                wsgi=wsgi,
                workers=args.workers,
                ready_path="/health/live",
                tmp_path=Path(tmp),
            ) as server:
                timings, statuses = measure(server, path, args.requests)
            report(name, timings, statuses)
        # PostgreSQL paused (SIGSTOP): each answer must come within the 2 s budget.
        with serve(
            "gunicorn",
            env=base,
            wsgi=UNCACHED,
            workers=args.workers,
            ready_path="/health/live",
            tmp_path=Path(tmp),
        ) as server:
            server.get("/health/ready")
            pg.pause()
            try:
                timings, statuses = measure_hung(server, max(args.requests // 10, 20))
            finally:
                pg.resume()
        report("pg hung", timings, statuses)


if __name__ == "__main__":
    main()
