"""The one clock of django-hardening: wall time and monotonic time behind two functions, so
tests move time for every room at once (``tests/helpers/clock.py``) without sleeping."""

from __future__ import annotations

import time


def now() -> float:
    """Unix time in seconds (token expiry, TOTP steps, rate-limit windows, locks)."""
    return time.time()


def monotonic() -> float:
    """Seconds on a clock that never goes back (intervals: caches, breakers, key stores)."""
    return time.monotonic()
