"""The example project's settings with the test URLconf of ``tests.timeout.server_urls``."""

from __future__ import annotations

from example_project.settings import *  # noqa: F403

ROOT_URLCONF = "tests.timeout.server_urls"
