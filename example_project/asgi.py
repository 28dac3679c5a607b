"""ASGI entry point: ``uvicorn example_project.asgi:application`` refuses to start on
Error-level checks."""

from __future__ import annotations

import os

from hardening.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

application = get_asgi_application()
