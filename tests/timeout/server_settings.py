"""The example project's settings with the test URLconf of ``tests.timeout.server_urls``
and its exempt prefix ``/t/exempt/``."""

from __future__ import annotations

from example_project.settings import *  # noqa: F403

ROOT_URLCONF = "tests.timeout.server_urls"
HARDENING_REQUEST_TIMEOUT_ROUTES = {"/health/": None, "/metrics": None, "/t/exempt/": None}
