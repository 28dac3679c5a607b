"""Gunicorn hooks for Prometheus multiprocess mode.

    export PROMETHEUS_MULTIPROC_DIR=/run/prometheus
    gunicorn -c python:hardening.gunicorn example_project.wsgi

or, in your own ``gunicorn.conf.py``::

    from hardening.gunicorn import child_exit, on_starting  # noqa: F401

With several workers each process has its own counters; prometheus_client's multiprocess
mode writes them to files in ``PROMETHEUS_MULTIPROC_DIR`` and django-prometheus's
``/metrics`` view sums them.  The directory must exist, be writable and start empty
(:func:`on_starting` empties it), and a dead worker's live gauges must be dropped
(:func:`child_exit`).  The variable must be set in the environment *before* gunicorn
starts (prometheus_client reads it at import time).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["child_exit", "on_starting"]


def _directory() -> Path | None:
    value = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(value) if value else None


def on_starting(server: Any) -> None:
    """Create the metrics directory and remove files left by an earlier run."""
    directory = _directory()
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    for entry in directory.glob("*.db"):
        entry.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """Drop the live gauges of a worker that exited."""
    if _directory() is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
