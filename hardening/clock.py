"""The one clock of django-hardening: wall time and monotonic time behind two functions, so
tests move time for every room at once (``tests/helpers/clock.py``) without sleeping."""

from __future__ import annotations

import time

#: True while a test has replaced :func:`now` and :func:`monotonic` (``tests/helpers/clock.py``).
#: Code that reads another clock in production -- the rate limiter's Redis script reads Redis'
#: own ``TIME``, so hosts with skewed clocks agree -- hands it :func:`now` instead, so faked
#: time reaches Redis too and this module stays the one clock seam.
replaced = False


def now() -> float:
    """Unix time in seconds (token expiry, TOTP steps, rate-limit windows, locks)."""
    return time.time()


def monotonic() -> float:
    """Seconds on a clock that never goes back (intervals: caches, breakers, key stores)."""
    return time.monotonic()
