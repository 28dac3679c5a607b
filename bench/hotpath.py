"""Profile the hardening stack's per-request hot path with pyinstrument.

    .venv/bin/pip install pyinstrument        # the ``bench`` dependency group
    .venv/bin/python bench/hotpath.py --requests 3000 [--stack hardening|peer|bare]

Builds the same in-process handler as ``bench/inproc.py`` (``PERF_VARIANT=all``), warms it
up, then profiles ``--requests`` requests; prints pyinstrument's call tree (only frames of
at least ``--min-percent`` of the time); ``--html FILE`` also writes the (large) HTML report.
"""

from __future__ import annotations

import argparse
import os

import inproc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--stack", default="hardening", choices=["hardening", "peer", "bare"])
    parser.add_argument("--interval", type=float, default=0.0001)
    parser.add_argument("--min-percent", type=float, default=1.5)
    parser.add_argument("--html", help="also write pyinstrument's HTML report here (large)")
    args = parser.parse_args()
    from pyinstrument import Profiler

    os.environ["PERF_VARIANT"] = "all"
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchproj.settings"
    import django

    with inproc.environment(False) as tokens:
        django.setup()
        from django.conf import settings

        middleware = {
            "hardening": list(settings.HARDENING_STACK["middleware"]),
            "peer": list(settings.PEER_MIDDLEWARE),
            "bare": [],
        }[args.stack]
        stack = inproc.Stack(args.stack, middleware, args.stack, tokens.get(args.stack))
        for _ in range(200):
            stack.call()
        assert stack.bad == 0, stack.last_status
        profiler = Profiler(interval=args.interval)
        profiler.start()
        for _ in range(args.requests):
            stack.call()
        profiler.stop()
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    print(_prune(text, args.min_percent))
    if args.html:
        with open(args.html, "w", encoding="utf-8") as handle:
            handle.write(profiler.output_html())
        print(f"wrote {args.html}")


def _prune(text: str, min_percent: float) -> str:
    """Keep the lines whose time is at least ``min_percent`` of the root's."""
    import re

    lines = text.splitlines()
    total = None
    kept = []
    for line in lines:
        match = re.search(r"(\d+\.\d+)\s", line)
        if match and total is None and re.match(r"^\s*\d+\.\d+", line.strip("│├└─ ")):
            total = float(match.group(1))
        is_frame = bool(total and match and re.match(r"^[\s│├└─]*\d+\.\d+", line))
        if is_frame and match and total and float(match.group(1)) / total * 100 < min_percent:
            continue
        kept.append(line)
    return "\n".join(kept)


if __name__ == "__main__":
    main()
