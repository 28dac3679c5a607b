"""One process's lease book (hardening.ratelimit.lease.Leases) directly: a bounded number of
signatures, grants only for a known signature and only when units were reserved, a unit
put back when the request was refused elsewhere, and the sweep's bound."""

from __future__ import annotations

import pytest

from hardening.ratelimit import lease
from hardening.ratelimit.lease import Leases

SIG = ("w:a:60",)


def hot(book: Leases, sig: tuple[str, ...], now: float) -> None:
    """Two round trips in a row: ``sig`` is known and hot on this worker."""
    book.begin(sig, now)
    book.begin(sig, now + 0.01)


def test_the_book_forgets_the_oldest_signature_beyond_its_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lease, "MAX_KEYS", 3)
    book = Leases()
    for name in ("a", "b", "c", "d"):
        assert book.begin((name,), 0.0) == (0, (), ())  # first sight: no lease asked
    # "a" was forgotten: it is new again; "d" is remembered: its second trip is hot.
    assert book.begin(("a",), 0.1) == (0, (), ())
    want, _back, _starts = book.begin(("d",), 0.1)
    assert want == 2  # hot: twice (what it used + 1)


def test_a_grant_needs_reserved_units_and_a_known_signature() -> None:
    book = Leases()
    hot(book, SIG, 0.0)
    book.grant(SIG, 0, (0,), 1.0, [])  # the script granted nothing
    assert book.take(SIG, 0.1) is None
    book.grant(("never-seen",), 5, (0,), 1.0, [])  # forgotten meanwhile: ignored
    assert book.take(("never-seen",), 0.1) is None
    book.grant(SIG, 2, (0,), 1.0, [])
    assert book.take(SIG, 0.1) is not None


def test_untake_puts_back_the_unit_of_a_request_refused_elsewhere() -> None:
    book = Leases()
    hot(book, SIG, 0.0)
    book.grant(SIG, 1, (0,), 1.0, [])
    taken = book.take(SIG, 0.1)
    assert taken is not None and (taken.left, taken.used) == (0, 1)
    assert book.take(SIG, 0.1) is None  # spent
    book.untake(SIG)
    assert (taken.left, taken.used) == (1, 0)
    assert book.take(SIG, 0.1) is taken  # the unit admits the next request
    book.untake(("unknown",))  # nothing to put back: no error


def test_the_sweep_gives_back_at_most_its_limit_per_round_trip() -> None:
    book = Leases()
    sigs = [(f"w:{n}:60", f"w:{n}:3600") for n in range(3)]  # two windows each
    for sig in sigs:
        hot(book, sig, 0.0)
        book.grant(sig, 4, (0, 0), 1.0, [], spans=(60_000, 3_600_000))
    assert book.sweep(0.5, skip=()) == []  # the leases still run
    first = book.sweep(2.0, skip=sigs[0], limit=3)  # one signature's two windows fit
    assert first == [("w:1:60", 60_000, 4, 0), ("w:1:3600", 3_600_000, 4, 0)]
    rest = book.sweep(2.0, skip=())
    assert [key for key, *_ in rest] == ["w:0:60", "w:0:3600", "w:2:60", "w:2:3600"]
    assert book.sweep(2.0, skip=()) == []  # each given back once
