"""The example project's WSGI application without the readiness result cache, for
``health_bench.py``'s ``uncached`` and ``pg hung`` modes (the cache time is the constant
``hardening.health.runner.CACHE_SECONDS``, not a setting)."""

from __future__ import annotations

from example_project.wsgi import application as application  # re-exported for gunicorn
from hardening.health import runner

runner.CACHE_SECONDS = 0.0
