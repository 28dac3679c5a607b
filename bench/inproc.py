"""In-process cost per request, per middleware/component (no HTTP, no server).

    .venv/bin/python bench/inproc.py --rounds 40 --requests 100

Every stack runs in one interpreter (``PERF_VARIANT=all``) through its own Django
``WSGIHandler`` built with its own ``MIDDLEWARE``; the same ``GET /api/ping`` reaches the
bare, peer or hardening view.  Stacks:

* ``bare``, ``peer``, ``hardening`` (the three HTTP variants);
* ``bare view + <first k hardening middleware>`` for k = 1..n: the hardening middleware
  added one at a time, in ``MIDDLEWARE`` order, in front of the bare view but with the
  hardening token, so the difference between consecutive medians is the cost of the
  component just added (given the ones before it); the last step, from the bare view to
  the hardening view (DRF auth class + permissions), is the view-level cost;
* ``hardening + Django defaults``: the example's complete ``MIDDLEWARE`` (informative).

Each round sends ``--requests`` requests to every stack, in an order rotated per round;
the figure per stack is the median over rounds of the mean µs per request.  Results go to
the ``inproc`` section of ``bench/results/latest.json`` (and ``latest.md``).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import report
from common import BenchEnv, log, loud


def short(path: str) -> str:
    return path.rsplit(".", 1)[1]


def environ_for(view: str, token: str | None) -> Callable[[], dict[str, Any]]:
    base = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/api/ping",
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_X_FORWARDED_PROTO": "https",
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        "bench.view": view,
    }
    if token:
        base["HTTP_AUTHORIZATION"] = f"Bearer {token}"

    def make() -> dict[str, Any]:
        environ = dict(base)
        environ["wsgi.input"] = io.BytesIO(b"")
        return environ

    return make


class Stack:
    def __init__(self, name: str, middleware: list[str], view: str, token: str | None) -> None:
        from django.core.handlers.wsgi import WSGIHandler
        from django.test.utils import override_settings

        self.name = name
        with override_settings(MIDDLEWARE=middleware):
            self.handler = WSGIHandler()
        self.environ = environ_for(view, token)
        self.samples: list[float] = []
        self.bad = 0
        self.last_status = ""

    def call(self) -> None:
        status: list[str] = []

        def start_response(code: str, headers: Any, exc_info: Any = None) -> None:
            status.append(code)

        response = self.handler(self.environ(), start_response)
        try:
            b"".join(response)
        finally:
            response.close()
        self.last_status = status[0]
        if not status[0].startswith("200"):
            self.bad += 1

    def measure(self, n: int) -> None:
        started = time.perf_counter()
        for _ in range(n):
            self.call()
        self.samples.append((time.perf_counter() - started) / n * 1e6)


def build(tokens: dict[str, str | None]) -> tuple[list[Stack], list[str], dict[str, Any]]:
    from django.conf import settings

    description: dict[str, Any] = settings.HARDENING_STACK
    hardening = list(description["middleware"])
    stacks = [
        Stack("bare", [], "bare", None),
        Stack("peer", list(settings.PEER_MIDDLEWARE), "peer", tokens["peer"]),
        Stack("hardening", hardening, "hardening", tokens["hardening"]),
    ]
    steps = []
    for k in range(1, len(hardening) + 1):
        name = f"bare view + {k} hardening MW (… {short(hardening[k - 1])})"
        stacks.append(Stack(name, hardening[:k], "bare", tokens["hardening"]))
        steps.append(name)
    stacks.append(
        Stack(
            "hardening + Django defaults",
            list(description["example"]),
            "hardening",
            tokens["hardening"],
        )
    )
    return stacks, steps, description


@contextlib.contextmanager
def environment(reuse: bool) -> Iterator[dict[str, str | None]]:
    if reuse:
        from pathlib import Path

        from benchproj import keys

        keydir = Path(os.environ["PERF_KEYDIR"])
        yield {
            "peer": keys.peer_token(keydir),
            "hardening": keys.oidc_token(keydir, os.environ["PERF_ISSUER"]),
        }
        return
    with BenchEnv() as bench:
        os.environ.update(bench.env("all"))
        yield {"peer": bench.token("peer"), "hardening": bench.token("hardening")}


def run(args: argparse.Namespace) -> dict[str, Any]:
    os.environ["PERF_VARIANT"] = "all"
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchproj.settings"
    import django

    with environment(args.reuse_env) as tokens:
        django.setup()  # after the environment: settings read PERF_* at import
        stacks, steps, description = build(tokens)
        for stack in stacks:  # warm-up: JWKS fetch, DB connection, Lua script load
            for _ in range(max(20, args.requests // 5)):
                stack.call()
            if stack.bad:
                loud(f"{stack.name}: warm-up answered {stack.last_status}")
            stack.bad = 0
        deadline = time.monotonic() + args.max_seconds
        for index in range(args.rounds):
            shift = index % len(stacks)
            for stack in stacks[shift:] + stacks[:shift]:
                stack.measure(args.requests)
            gc.collect()
            if (index + 1) % 10 == 0 or index + 1 == args.rounds:
                log(f"round {index + 1}/{args.rounds}")
            if time.monotonic() > deadline:
                loud(f"stopped after {index + 1} rounds: --max-seconds {args.max_seconds}")
                break
    medians = {s.name: report.median(s.samples) for s in stacks}
    bare = medians["bare"] or 0.0
    rows = [
        {
            "name": s.name,
            "median_us": medians[s.name],
            "added_us": (medians[s.name] or 0.0) - bare,
            "non200": s.bad,
            "rounds": len(s.samples),
        }
        for s in stacks
    ]
    components = []
    previous = "bare"
    for name, path in zip(steps, description["middleware"], strict=True):
        components.append(
            {
                "component": short(path),
                "path": path,
                "us": (medians[name] or 0.0) - (medians[previous] or 0.0),
            }
        )
        previous = name
    components.append(
        {
            "component": "DRF view auth + permissions ("
            + ", ".join(
                short(c) for c in description["auth_classes"] + description["permission_classes"]
            )
            + ")",
            "path": "view",
            "us": (medians["hardening"] or 0.0) - (medians[previous] or 0.0),
        }
    )
    summary = {
        "bare_us": bare,
        "peer_added_us": (medians["peer"] or 0.0) - bare,
        "hardening_added_us": (medians["hardening"] or 0.0) - bare,
        "hardening_over_bare": (medians["hardening"] or 0.0) / bare if bare else None,
        "peer_over_bare": (medians["peer"] or 0.0) / bare if bare else None,
    }
    return {
        "meta": {
            "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "rounds": min(len(s.samples) for s in stacks),
            "requests": args.requests,
            "python": sys.version.split()[0],
            "django": django.get_version(),
        },
        "stack": description,
        "stacks": rows,
        "components": components,
        "summary": summary,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--max-seconds", type=float, default=480)
    parser.add_argument("--reuse-env", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    result = run(args)
    path = report.save("inproc", result)
    width = max(len(r["name"]) for r in result["stacks"])
    for row in result["stacks"]:
        print(
            f"{row['name']:<{width}}  {row['median_us']:8.0f} µs  added {row['added_us']:+8.0f} µs"
            f"  non-200: {row['non200']}"
        )
    print("\ncomponent costs (added one at a time):")
    for row in result["components"]:
        print(f"  {row['component']:<60} {row['us']:+8.0f} µs")
    print(
        f"\nhardening stack adds {result['summary']['hardening_added_us']:.0f} µs per request "
        f"(target <= 350); peer adds {result['summary']['peer_added_us']:.0f} µs"
    )
    log(f"wrote {path}")


if __name__ == "__main__":
    main()
