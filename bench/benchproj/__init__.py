"""A small Django project for the benchmarks; the variant comes from ``PERF_VARIANT``.

* ``bare``: a DRF ``GET /api/ping`` with ``AllowAny`` and no middleware;
* ``peer``: the hand-built stack of ``../shared/research/perf_baseline.md`` (V3);
* ``hardening``: the example project's hardening middleware stack and JWT auth class;
* ``all``: every view and setting in one process (used by ``bench/inproc.py``).
"""

from __future__ import annotations
