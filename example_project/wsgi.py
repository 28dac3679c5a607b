"""WSGI entry point: ``gunicorn example_project.wsgi`` refuses to start on Error-level checks."""

from __future__ import annotations

import os

from hardening.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

application = get_wsgi_application()
