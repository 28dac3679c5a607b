from __future__ import annotations

from tests.helpers.clock import clock  # noqa: F401 - the shared fake clock fixture
from tests.helpers.mfa import _clear_cache  # noqa: F401 - autouse: no counters between tests
