"""drf-spectacular, Celery and OpenTelemetry are optional (extras ``openapi``, ``celery``,
``otel``): with them blocked, every hardening module imports, the example's checks pass
their wiring, a request is served with its request ID and a JSON log line is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import sys
BLOCKED = ("drf_spectacular", "drf_spectacular_sidecar", "celery", "opentelemetry",
           "schemathesis", "openapi_spec_validator")
for name in BLOCKED:
    sys.modules[name] = None  # import raises ImportError; find_spec raises ValueError

import importlib, logging, pkgutil
import django
django.setup()

import hardening
skipped = []
for module in pkgutil.walk_packages(hardening.__path__, "hardening."):
    if module.name.startswith("hardening.openapi.") and module.name != "hardening.openapi.checks":
        skipped.append(module.name)  # the extra's own modules
        continue
    importlib.import_module(module.name)
from hardening import openapi
from hardening.observability import correlation
assert not openapi.available() and openapi.rest_framework_schema() == {}
assert correlation.connect_celery() is False
assert correlation.trace_ids() == {} and correlation.outgoing_headers() == {}
assert not any(name.split(".")[0] in BLOCKED for name in sys.modules if sys.modules[name])

from django.conf import settings
assert "drf_spectacular" not in settings.INSTALLED_APPS
from django.core.management import call_command
from django.test.utils import setup_test_environment
setup_test_environment()
from django.test import Client
call_command("migrate", verbosity=0)
response = Client().get("/api/me", HTTP_X_REQUEST_ID="req-no-extras")
assert response.status_code == 401 and response["X-Request-ID"] == "req-no-extras"
assert Client().get("/api/schema/").status_code == 404
from hardening.observability.logging import JsonFormatter
line = JsonFormatter().format(logging.LogRecord("x", 30, "f.py", 1, "hello", None, None))
assert '"message": "hello"' in line and "trace_id" not in line
print("OK", len(skipped))
"""


def test_hardening_works_without_the_extras() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("HARDENING_TEST_DATABASE_URL", None)  # SQLite in memory: this is an import test
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().startswith("OK")
