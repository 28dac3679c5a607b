"""Fixtures of the timeout tests."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from hardening.timeout.watchdog import watchdog


@pytest.fixture(autouse=True)
def _watchdog_settles() -> Iterator[None]:
    """A request answered 504 leaves its deadline registered until the watchdog has dealt
    with it: wait for that (bounded), so its log line is never another test's."""
    yield
    assert watchdog.wait_idle(timeout=15), "a deadline is still registered with the watchdog"


@pytest.fixture
def free_sigalrm() -> Iterator[None]:
    """SIGALRM as in a gunicorn sync worker: default handler, no timer."""
    handler = signal.getsignal(signal.SIGALRM)
    left, interval = signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, handler)
        if left:
            signal.setitimer(signal.ITIMER_REAL, left, interval)
