"""One fake clock for every room: patches :mod:`hardening.clock` (Redis' time in the rate
limiter's script included, through ``hardening.clock.replaced``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from hardening import clock as hardening_clock


class FakeClock:
    """Wall time starts at ``start``; monotonic time moves with it."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.t = start
        self._origin = start

    def now(self) -> float:
        return self.t

    def monotonic(self) -> float:
        return 1000.0 + (self.t - self._origin)

    __call__ = now

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def next_step(self, period: int = 30) -> None:
        """To 1 s into the next TOTP step."""
        self.t = (int(self.t // period) + 1) * period + 1


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    with installed(FakeClock()) as fake:
        yield fake


def _timelines_changed() -> None:
    """The timeout watchdog sleeps until the next deadline on hardening.clock: when the clock
    is swapped, that moment is on another timeline, so it must look again (else a deadline
    registered after a fake clock left waits for a wake-up computed on the fake one)."""
    from hardening.timeout.watchdog import watchdog

    watchdog.changed()


@contextmanager
def installed(fake: FakeClock) -> Iterator[FakeClock]:
    """The fake clock in :mod:`hardening.clock` for the block (the ``clock`` fixture; and
    for hypothesis examples, which cannot use function-scoped fixtures)."""
    saved = (hardening_clock.now, hardening_clock.monotonic, hardening_clock.replaced)
    hardening_clock.now, hardening_clock.monotonic = fake.now, fake.monotonic
    hardening_clock.replaced = True
    _timelines_changed()
    try:
        yield fake
    finally:
        hardening_clock.now, hardening_clock.monotonic, hardening_clock.replaced = saved
        _timelines_changed()
