"""The clock of the MFA code: one function, so tests can move time without sleeping."""

from __future__ import annotations

import time

__all__ = ["now"]


def now() -> float:
    """Unix time in seconds (patch ``hardening.mfa.clock.now`` in tests)."""
    return time.time()
