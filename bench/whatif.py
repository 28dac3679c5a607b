"""What-if measurements: the hardening stack in-process with candidate fixes patched in.

    .venv/bin/python bench/whatif.py [--rounds 30] [--requests 100]

Nothing in ``hardening/`` is changed: each candidate is a monkeypatch applied only while
its batch of requests runs (batches interleaved, order rotated per round, median µs):

* ``token cache``: ``hardening.jwt.auth.verify_token`` answers a token it verified before
  from a per-process dict (keyed by the raw token, dropped at ``exp``), skipping the
  parse + RS256 verification;
* ``rate-limit lease 8``: the limiter asks Redis for 1 request in 8 per bucket and
  admits the 7 others locally (what a local lease/batch of 8 would cost; accuracy
  trade-off: up to workers x 7 requests over a limit);
* both together;
* ``rate limit: PING instead of the script``: the limiter's one round trip, without the
  Lua script (what the round trip alone costs inside the stack);
* ``rate limit: no Redis``: the limiter's Python only (keys, arguments, decision).

Results go to the ``whatif`` section of ``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Callable

import inproc
import report
from benchproj.whatif import both, lease, no_redis, ping_only, token_cache
from common import log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    os.environ["PERF_VARIANT"] = "all"
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchproj.settings"
    import django

    from hardening.ratelimit.limiter import Decision

    assert Decision().allowed, "Decision() must default to allowed for the lease what-if"
    candidates: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
        "hardening (as is)": contextlib.nullcontext,
        "hardening + token cache": token_cache,
        "hardening + rate-limit lease 8": lease,
        "hardening + both": both,
        "hardening, rate limit: PING instead of the script": ping_only,
        "hardening, rate limit: no Redis": no_redis,
    }
    with inproc.environment(False) as tokens:
        django.setup()
        from django.conf import settings

        middleware = list(settings.HARDENING_STACK["middleware"])
        stacks = {"bare": inproc.Stack("bare", [], "bare", None)}
        for name in candidates:
            stacks[name] = inproc.Stack(name, middleware, "hardening", tokens["hardening"])
        patches = {"bare": contextlib.nullcontext, **candidates}
        for name, stack in stacks.items():
            with patches[name]():
                for _ in range(50):
                    stack.call()
            assert stack.bad == 0, (name, stack.last_status)
        names = list(stacks)
        for index in range(args.rounds):
            shift = index % len(names)
            for name in names[shift:] + names[:shift]:
                with patches[name]():
                    stacks[name].measure(args.requests)
    medians = {name: report.median(stack.samples) for name, stack in stacks.items()}
    bare = medians["bare"] or 0.0
    rows = [
        {"name": name, "median_us": value, "added_us": (value or 0.0) - bare}
        for name, value in medians.items()
    ]
    for row in rows:
        print(f"{row['name']:<52} {row['median_us']:7.0f} µs  added {row['added_us']:+6.0f} µs")
    path = report.save(
        "whatif",
        {
            "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "rounds": args.rounds,
            "requests": args.requests,
            "rows": rows,
        },
    )
    log(f"wrote {path}")


if __name__ == "__main__":
    main()
