"""Plain Django WSGI entry point for every variant (the startup checks of hardening.wsgi
are not part of the per-request cost)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchproj.settings")
application = get_wsgi_application()
