"""Branch coverage of ``hardening/`` for a whole pytest run, without pytest-cov.

``.ci/run`` loads it around the README's test command (which must stay as the README has
it: ``tests/test_docs.py``)::

    PYTEST_ADDOPTS="-p tests.coverage_plugin" .venv/bin/pytest

A plugin named with ``-p`` is imported before pytest-django sets Django up, so measurement
starts before the first ``hardening`` import.  The configuration is ``[tool.coverage]`` in
pyproject.toml (branch, source ``hardening``, parallel data files); ``coverage combine`` and
``coverage report`` (``fail_under``) follow the run.  Code that only runs inside the real
gunicorn / uvicorn processes of the ``server`` tests is not measured here.
"""

from __future__ import annotations

import coverage
import pytest

_coverage = coverage.Coverage()
_coverage.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    _coverage.stop()
    _coverage.save()
