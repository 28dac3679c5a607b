"""Test settings: the example project's settings in ``test`` mode, so the tests prove the
wiring users get, with data stores chosen by ``HARDENING_TEST_*`` variables.

* ``HARDENING_TEST_DATABASE_URL`` (e.g. ``postgres://postgres@127.0.0.1:5432/test``): run
  the whole suite on that database; the ``postgres`` tests need it.
* ``HARDENING_TEST_REDIS_URL`` (e.g. ``redis://127.0.0.1:6379/0``): adds a ``redis`` cache
  alias (keys under a per-run prefix); the ``redis`` tests need it.
* ``HARDENING_TEST_DB_SUFFIX``: appended to the test database name so several runs can
  share one server.
"""

from __future__ import annotations

import os
import uuid

os.environ["DJANGO_ENV"] = "test"
for _name in ("DATABASE_URL", "CACHE_URL", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"):
    os.environ.pop(_name, None)

from example_project.settings import *  # noqa: E402,F403
from hardening.env import Env  # noqa: E402

_env = Env()

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if _env.has("HARDENING_TEST_DATABASE_URL"):
    DATABASES = {"default": _env.db("HARDENING_TEST_DATABASE_URL")}
    # As the example project does for every non-SQLite database (hardening.E062).
    DATABASES["default"].update({"CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True})
    DATABASES["default"]["TEST"] = {
        "NAME": "test_hardening" + _env.str("HARDENING_TEST_DB_SUFFIX", default="")
    }
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}
if _env.has("HARDENING_TEST_REDIS_URL"):
    CACHES["redis"] = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": _env.str("HARDENING_TEST_REDIS_URL"),
        "KEY_PREFIX": f"hardening-test-{uuid.uuid4().hex[:12]}",
    }
