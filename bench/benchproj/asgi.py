"""ASGI entry point (``bench/asgi_bench.py``): what ``hardening.asgi`` serves, without its
start-up checks (as ``wsgi.py`` leaves them out too)."""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchproj.settings")
django.setup(set_prefix=False)

from hardening.timeout.runner import PooledASGIHandler  # noqa: E402 - after setup

application = PooledASGIHandler()
