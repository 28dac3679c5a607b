from __future__ import annotations

from tests.mfa.conftest import _clear_cache, fake_clock  # noqa: F401 - shared fixtures
