"""The example project's settings with short JWKS timings for the server fault tests
(``tests/jwt/test_jwks_server_faults.py``): a 1 s TTL, a 0.2 s cooldown, a 1 s fetch
deadline, so that a refetch (and its failure) happens within a second or two.
``TEST_JWKS_CACHE_TTL`` sets another TTL (``tests/jwt/test_jwks_server_refresh.py``)."""

from __future__ import annotations

import os

from example_project.settings import *  # noqa: F403

HARDENING_JWKS_CACHE_TTL = float(os.environ.get("TEST_JWKS_CACHE_TTL", "1.0"))
HARDENING_JWKS_COOLDOWN = 0.2
HARDENING_JWKS_TIMEOUT = 1.0
