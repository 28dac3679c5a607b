"""Exact leases for hot keys: a worker reserves a batch of a window's budget in the round
trip it makes anyway and admits the next requests of that key locally from it.

The script (``redis_script``) counts a reservation in the window as if every reserved unit
were a request admitted then, so the invariant of the window — never more admitted than its
limit — holds with leases exactly as without them.  The cost is false refusals: units a
worker holds but has not used yet are counted for the others.  It is bounded by four rules:

* a worker asks for a lease only for a key that is hot *on that worker* (its previous round
  trip for the same windows was less than :data:`LEASE_SECONDS` ago), and asks for at most
  twice what it used of its previous lease (1, 2, 4, … up to :data:`MAX_BATCH`);
* the script grants at most ``(limit - estimate - 1) // (SHARE * active workers)`` extra
  units per window (:func:`grant`): a worker takes at most half of what is left divided
  among the workers that leased the window in the last second, so the grant shrinks to
  nothing near the limit and every request there makes its own round trip;
* a lease admits for at most :data:`LEASE_SECONDS`, and never past the end of the window it
  was counted in (so what it admits is in that window);
* the unused units are given back in the worker's next round trip for the same windows, or,
  once the lease has expired, in its next round trip for any key (on one Redis; counted out
  of the window they were reserved in, or out of the previous-window count once the window
  has rolled).  A worker that dies loses its units until the window ends.

New bans reach a worker holding a lease when the lease ends (at most 1 s later).
The server side of this algorithm, in Python, is ``tests/helpers/leasemodel.py``; the
property test drives it with this module's :class:`Leases` (the code the limiter runs).
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: A lease admits locally for at most this long (and never past its window's end).
LEASE_SECONDS = 1.0
#: The most units one round trip reserves beyond the request that makes it.
MAX_BATCH = 64
#: A worker takes at most 1/SHARE of the budget left per active worker.
SHARE = 2
#: Signatures (window sets) remembered per process; the oldest are forgotten beyond it.
MAX_KEYS = 4096
#: Windows of other keys' expired leases given back per round trip, at most.
SWEEP = 8


def grant(remaining: int, active: int, want: int) -> int:
    """Extra units the script grants one window: ``remaining`` is what the window has left
    after the request that asks (``limit - estimate - 1``), ``active`` the workers that
    leased it in the last :data:`LEASE_SECONDS` (this one included).  The Lua script
    computes exactly this; ``tests/ratelimit/test_leases.py`` holds them equal.

    >>> grant(48, 1, 64), grant(48, 4, 64), grant(7, 4, 64), grant(100, 2, 3)
    (24, 6, 0, 3)
    """
    if want <= 0 or remaining <= 0:
        return 0
    return max(0, min(want, MAX_BATCH, remaining // (SHARE * max(1, active))))


@dataclass
class Lease:
    """Units reserved for one set of windows: what is left and until when."""

    starts: tuple[int, ...]  # each window's start (ms) in the script's time
    left: int
    deadline: float  # on the limiter's clock
    used: int = 0
    windows: list[Any] = field(default_factory=list)  # WindowState for the headers
    spans: tuple[int, ...] = ()  # each window's length (ms): for :meth:`Leases.sweep`


@dataclass
class _Entry:
    last: float  # time of this worker's last round trip for the signature
    lease: Lease | None = None
    batch: int = 0  # units used of the previous lease + 1: the next ``want`` doubles it


class Leases:
    """One process's leases, by signature (the tuple of window key names).  Thread-safe."""

    def __init__(self) -> None:
        #: Who this worker is to the script's count of active lease holders.
        self.token = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, ...], _Entry] = {}

    def take(self, sig: tuple[str, ...], now: float) -> Lease | None:
        """The lease that admits this request (one unit used), else None."""
        with self._lock:
            entry = self._entries.get(sig)
            lease = entry.lease if entry is not None else None
            if lease is None or lease.left <= 0 or now >= lease.deadline:
                return None
            lease.left -= 1
            lease.used += 1
            return lease

    def begin(self, sig: tuple[str, ...], now: float) -> tuple[int, Sequence[int], Sequence[int]]:
        """Before a round trip: ``(want, back, back_starts)``: the units to ask for, and the
        unused units of the previous lease to give back (per window, with its start)."""
        with self._lock:
            entry = self._entries.get(sig)
            if entry is None:
                if len(self._entries) >= MAX_KEYS:  # forget the oldest (its units expire)
                    del self._entries[next(iter(self._entries))]
                self._entries[sig] = _Entry(last=now)
                return 0, (), ()
            hot = now - entry.last < LEASE_SECONDS
            entry.last = now
            lease, entry.lease = entry.lease, None
            used = lease.used if lease is not None else 0
            entry.batch = used + 1 if hot else 0
            want = min(MAX_BATCH, 2 * entry.batch) if hot else 0
            if lease is None or lease.left <= 0:
                return want, (), ()
            return want, [lease.left] * len(lease.starts), lease.starts

    def grant(
        self,
        sig: tuple[str, ...],
        extra: int,
        starts: tuple[int, ...],
        deadline: float,
        windows: list[Any],
        spans: tuple[int, ...] = (),
    ) -> None:
        """After an admitted round trip that reserved ``extra`` units."""
        if extra <= 0:
            return
        with self._lock:
            entry = self._entries.get(sig)
            if entry is not None:
                entry.lease = Lease(starts, extra, deadline, windows=windows, spans=spans)

    def sweep(
        self, now: float, skip: tuple[str, ...], limit: int = SWEEP
    ) -> list[tuple[str, int, int, int]]:
        """Up to ``limit`` windows of expired leases with units left, taken out of their
        leases to be given back by the next round trip (any key's, on one Redis):
        ``[(window key, window ms, units, start)]``."""
        found: list[tuple[str, int, int, int]] = []
        with self._lock:
            for sig, entry in self._entries.items():
                lease = entry.lease
                if sig == skip or lease is None or lease.left <= 0 or not lease.spans:
                    continue
                if now < lease.deadline:
                    continue
                if len(found) + len(sig) > limit:
                    break
                found += zip(sig, lease.spans, [lease.left] * len(sig), lease.starts, strict=True)
                entry.lease = None
        return found

    def untake(self, sig: tuple[str, ...]) -> None:
        """Put back the unit :meth:`take` used (the request was refused elsewhere)."""
        with self._lock:
            entry = self._entries.get(sig)
            if entry is not None and entry.lease is not None:
                entry.lease.left += 1
                entry.lease.used -= 1
