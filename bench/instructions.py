"""Instructions per request, counted by valgrind's callgrind: stable on a busy machine where
wall-clock timings are not (use bench/inproc.py on a quiet one for microseconds).

    .venv/bin/python bench/instructions.py [--requests 300] [--scenario all]

Each scenario runs twice in a child interpreter under ``valgrind --tool=callgrind``, after
the same warm-up, once with 0 and once with ``--requests`` measured iterations; the
difference of the two totals divided by ``--requests`` is the instructions one request costs
(Django set-up and the warm-up cancel out).  ``PYTHONHASHSEED=0`` makes runs repeatable.

Scenarios (the example project, ``DJANGO_ENV=development``, no Redis):

* ``after``: ``hardening.middleware.PrometheusAfterMiddleware`` (django-prometheus's, its
  label look-ups cached) around a trivial view, the request built once;
* ``after-upstream``: the same with django-prometheus's own ``PrometheusAfterMiddleware``;
* ``policies``: ``hardening.ratelimit.decorators.view_policies`` (the per-view policies: a
  second URL resolve when some view is decorated);
* ``stack``: ``GET /api/me`` through the example's whole ``WSGIHandler`` with the limiter's
  Redis call replaced by an admitting decision (the Python the stack runs per request).  The
  request carries no credentials, so it is the 401 path (and its ``django.request`` log
  line); bench/inproc.py measures an authenticated request;
* ``bare``: the same request through a ``WSGIHandler`` with no middleware (subtract it).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("after", "after-upstream", "policies", "stack", "bare")
WARMUP = 50


def _setup() -> None:
    sys.path[:0] = [str(ROOT), str(ROOT / "example_project")]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
    os.environ["DJANGO_ENV"] = "development"
    import django

    django.setup()


def _environ() -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/api/me",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": __import__("io").BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def _operation(scenario: str) -> Callable[[], object]:
    from django.http import HttpResponse
    from django.test import RequestFactory
    from django.urls import resolve

    factory = RequestFactory()
    if scenario in ("after", "after-upstream"):
        from django_prometheus.middleware import PrometheusAfterMiddleware as Upstream

        from hardening.middleware import PrometheusAfterMiddleware

        response = HttpResponse(b"{}", content_type="application/json")
        match = resolve("/api/me")

        def view(request: Any) -> HttpResponse:
            return response

        def inner(request: Any) -> HttpResponse:
            middleware.process_view(request, view, (), {})
            return response

        cls = PrometheusAfterMiddleware if scenario == "after" else Upstream
        middleware = cls(inner)
        request = factory.get("/api/me")
        request.resolver_match = match

        def after() -> object:
            return middleware(request)

        return after
    if scenario == "policies":
        from hardening.ratelimit.decorators import view_policies

        request = factory.get("/api/me")
        return lambda: view_policies(request)
    from django.core.handlers.wsgi import WSGIHandler

    from hardening.ratelimit.decision import Decision
    from hardening.ratelimit.limiter import Limiter

    Limiter.decide = lambda self, *a, **k: Decision()  # type: ignore[method-assign]
    if scenario == "bare":
        from django.test import override_settings

        override_settings(MIDDLEWARE=[]).enable()
    handler = WSGIHandler()

    def request() -> object:
        body = handler(_environ(), lambda status, headers, exc_info=None: None)
        return b"".join(body)  # type: ignore[arg-type]

    return request


def child(scenario: str, count: int) -> None:
    _setup()
    operation = _operation(scenario)
    for _ in range(WARMUP):
        operation()
    for _ in range(count):
        operation()


def instructions(scenario: str, count: int) -> int:
    import tempfile

    env = {**os.environ, "PYTHONHASHSEED": "0"}
    with tempfile.NamedTemporaryFile("r", suffix=".log") as log:
        _valgrind(scenario, count, env, log.name)
        out = Path(log.name).read_text()
    found = re.search(r"Collected\s*:\s*(\d+)", out)
    if found is None:
        raise RuntimeError(out[-2000:])
    return int(found.group(1))


def _valgrind(scenario: str, count: int, env: dict[str, str], log: str) -> None:
    subprocess.run(  # noqa: S603
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            f"--log-file={log}",
            sys.executable,
            __file__,
            "--child",
            scenario,
            str(count),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        check=True,
    )


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--scenario", default="all", choices=["all", *SCENARIOS])
    args = parser.parse_args()
    chosen = SCENARIOS if args.scenario == "all" else (args.scenario,)
    for scenario in chosen:
        base = instructions(scenario, 0)
        total = instructions(scenario, args.requests)
        print(f"{scenario:10s} {(total - base) / args.requests:12,.0f} instructions/request")


if __name__ == "__main__":
    main()
