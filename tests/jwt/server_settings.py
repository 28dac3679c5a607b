"""The example project's settings with short JWKS timings for the server fault tests
(``tests/jwt/test_jwks_server_faults.py``): a 1 s TTL, a 0.2 s cooldown, a 1 s fetch
deadline, so that a refetch (and its failure) happens within a second or two.
``TEST_JWKS_CACHE_TTL`` sets another TTL (``tests/jwt/test_jwks_server_refresh.py``).

The timings are module constants of ``hardening.jwt.keys`` (not settings): the test-only
app :class:`ShortJWKSTimings` sets them in the server process when Django starts."""

from __future__ import annotations

import os

from django.apps import AppConfig

from example_project.settings import *  # noqa: F403
from example_project.settings import INSTALLED_APPS


class ShortJWKSTimings(AppConfig):
    name = "tests.jwt"
    label = "jwt_server_timings"

    def ready(self) -> None:
        from hardening.jwt import keys

        keys.CACHE_TTL = float(os.environ.get("TEST_JWKS_CACHE_TTL", "1.0"))
        keys.COOLDOWN = 0.2
        keys.TIMEOUT = 1.0


INSTALLED_APPS = [*INSTALLED_APPS, "tests.jwt.server_settings.ShortJWKSTimings"]
