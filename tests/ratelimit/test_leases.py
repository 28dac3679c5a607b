"""Exact leases (``hardening.ratelimit.lease``): the property tests.

The limiter and its leases are the real code; the script's server side is the Python model
of ``tests/helpers/leasemodel.py``, held equal to the Lua script on a real Redis below.
Invariant, in every run: no window ever admits more than its limit; the units a window
counts are exactly those admitted plus those held unused by live workers plus those lost
with dead ones (so a refusal is never caused by anything else); and a client spread over 4
workers at 90 % of its limit is never refused.
"""

from __future__ import annotations

import os
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hardening.ratelimit.conf import Config
from hardening.ratelimit.decision import Check
from hardening.ratelimit.keys import window_key
from hardening.ratelimit.lease import MAX_BATCH, SHARE, grant
from hardening.ratelimit.limiter import Limiter
from hardening.ratelimit.policy import Paths, parse_policy
from hardening.ratelimit.redis_script import SCRIPT
from tests.helpers.clock import FakeClock, installed
from tests.helpers.leasemodel import ModelRedis
from tests.servers import unavailable

CFG = Config(policies=(), exempt=Paths(), headers=False, bans=None)


def make_checks(rates: list[tuple[int, int]], bucket: str = "u:1") -> list[Check]:
    policy = parse_policy({"name": "user", "key": "user", "rates": rates})
    return [Check(policy, rate, bucket, bucket) for rate in policy.rates]


def test_grant_shrinks_to_nothing_near_the_limit() -> None:
    assert grant(1000, 1, 10**6) == MAX_BATCH
    assert grant(48, 4, 64) == 48 // (SHARE * 4)
    assert [grant(r, 4, 64) for r in range(0, 9)] == [0] * 8 + [1]
    assert grant(100, 1, 0) == 0  # a cold key asks for nothing


@dataclass
class Sim:
    """Workers (real ``Limiter``s) over the model; two clients (``u:1``, ``u:2``) with the
    same rates, so that a worker also gives back one client's expired lease in a round
    trip for the other."""

    rates: list[tuple[int, int]]
    workers: int
    clock: FakeClock = field(default_factory=FakeClock)
    model: ModelRedis = field(default_factory=ModelRedis)
    pool: list[Limiter] = field(default_factory=list)
    admitted: dict[str, list[int]] = field(default_factory=dict)  # by window key: times (ms)
    lost: Counter[tuple[str, int]] = field(default_factory=Counter)
    refused: int = 0

    def __post_init__(self) -> None:
        self.pool = [Limiter() for _ in range(self.workers)]
        self.checks = {b: make_checks(self.rates, b) for b in ("u:1", "u:2")}

    def request(self, worker: int, bucket: str = "u:1") -> bool:
        checks = self.checks[bucket]
        with installed(self.clock):
            decision = self.pool[worker]._redis(self.model, "", checks, [], CFG)
        if decision.allowed:
            for check in checks:
                self.admitted.setdefault(window_key(check), []).append(int(self.clock() * 1000))
        else:
            self.refused += 1
        return decision.allowed

    def leases(self, limiter: Limiter) -> list[tuple[tuple[str, ...], Any]]:
        entries = limiter.leases._entries.items()
        return [(sig, e.lease) for sig, e in entries if e.lease is not None]

    def kill(self, worker: int) -> None:
        """The worker dies with its leases; a new one takes its place."""
        for sig, lease in self.leases(self.pool[worker]):
            for key, start in zip(sig, lease.starts, strict=True):
                self.lost[(key, start)] += lease.left
        self.pool[worker] = Limiter()

    def held(self, key: str, start: int) -> int:
        total = 0
        for limiter in self.pool:
            for sig, lease in self.leases(limiter):
                starts = dict(zip(sig, lease.starts, strict=True))
                total += lease.left if starts.get(key) == start else 0
        return total

    def assert_invariants(self) -> None:
        for checks in self.checks.values():
            for check in checks:
                key = window_key(check)
                w = check.rate.seconds * 1000
                times = self.admitted.get(key, [])
                for k, start in self.model.starts:
                    if k == key:
                        inside = sum(start <= t < start + w for t in times)
                        assert inside <= check.rate.limit, (key, start, inside)
                win = self.model.windows.get(key)
                if win is None:
                    continue
                # Every unit the current window counts is admitted, held or lost.
                inside = sum(win.start <= t < win.start + w for t in times)
                accounted = inside + self.held(key, win.start) + self.lost[(key, win.start)]
                assert win.cur == accounted, (key, win, inside, accounted)


rates = st.lists(
    st.tuples(st.integers(1, 60), st.sampled_from([1, 2, 10, 60])),
    min_size=1,
    max_size=2,
    unique_by=lambda r: r[1],
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("request"), st.integers(0, 7), st.integers(1, 40)),
        st.tuples(st.just("trickle"), st.integers(0, 7), st.integers(1, 900)),
        st.tuples(st.just("advance"), st.integers(0, 7), st.integers(1, 130_000)),
        st.tuples(st.just("kill"), st.integers(0, 7), st.just(0)),
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rates=rates, workers=st.integers(1, 8), steps=steps)
def test_never_more_than_the_limit_and_every_unit_accounted(
    rates: list[tuple[int, int]], workers: int, steps: list[tuple[str, int, int]]
) -> None:
    sim = Sim(rates, workers)
    for action, worker, amount in steps:
        bucket = "u:2" if worker >= 6 else "u:1"  # mostly one client, sometimes the other
        worker %= workers
        if action == "request":  # a burst: `amount` requests, 0-20 ms apart
            for n in range(amount):
                sim.request((worker + n) % workers, bucket)
                sim.clock.advance((n % 3) * 0.01)
        elif action == "trickle":  # 12 requests, `amount` ms apart, round the workers
            for n in range(12):
                sim.request((worker + n) % workers, bucket)
                sim.clock.advance(amount / 1000)
        elif action == "advance":
            sim.clock.advance(amount / 1000)
        else:
            sim.kill(worker)
        sim.assert_invariants()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    limit=st.sampled_from([50, 100, 600]),
    seed=st.integers(0, 2**32 - 1),
    jitter=st.floats(0, 0.9),
)
def test_a_client_over_4_workers_at_90_percent_is_never_refused(
    limit: int, seed: int, jitter: float
) -> None:
    """At 90 %: evenly spaced, each request up to ``jitter`` of a spacing late (so no minute
    holds more than 90 % + 1), on a random worker, over three windows."""
    rng = random.Random(seed)
    sim = Sim([(limit, 60)], 4)
    spacing = 60 / (0.9 * limit)
    start = sim.clock()
    times = [start + (i + rng.uniform(0, jitter)) * spacing for i in range(int(2.7 * limit))]
    for at in times:
        sim.clock.t = at
        assert sim.request(rng.randrange(4)), (sim.refused, sim.model.windows)
    sim.assert_invariants()


def test_a_hot_key_makes_at_most_a_quarter_round_trip_per_request() -> None:
    """100 requests a second over 4 workers at 90 % of the limit: leases carry most."""
    sim = Sim([(6000, 60)], 4)
    for n in range(1500):
        sim.clock.advance(0.01 * 60 / 54)
        assert sim.request(n % 4)
    sim.assert_invariants()
    assert sim.model.calls <= 0.25 * 1500, sim.model.calls


def test_a_lease_of_a_key_gone_cold_is_given_back_by_another_keys_round_trip() -> None:
    sim = Sim([(100, 60)], 1)
    for _ in range(3):  # u:1 is hot on the worker: it holds a lease (2 units, 1 used)
        assert sim.request(0, "u:1")
        sim.clock.advance(0.05)
    key = window_key(sim.checks["u:1"][0])
    window = sim.model.windows[key]
    held = sim.held(key, window.start)
    assert held == 1 and window.cur == 3 + held
    sim.clock.advance(1.5)  # the lease has expired; the worker now serves u:2 only
    assert sim.request(0, "u:2")
    assert sim.model.windows[key].cur == 3
    assert sim.held(key, window.start) == 0
    sim.assert_invariants()


# -- the model is the script: the same replies on a real Redis ---------------------------


class Tee:
    """Runs every EVALSHA on Redis and on the model and insists on the same reply."""

    def __init__(self, client: Any, model: ModelRedis) -> None:
        self.client, self.model = client, model

    def evalsha(self, sha: str, numkeys: int, *rest: Any) -> list[int]:
        try:
            real = self.client.evalsha(sha, numkeys, *rest)
        except Exception as exc:
            if type(exc).__name__ != "NoScriptError":
                raise
            real = self.client.eval(SCRIPT, numkeys, *rest)
        assert [int(v) for v in real] == self.model.evalsha(sha, numkeys, *rest), rest
        return [int(v) for v in real]


@pytest.mark.redis
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rates=st.lists(
        st.tuples(st.integers(1, 40), st.sampled_from([10, 60])),
        min_size=1,
        max_size=2,
        unique_by=lambda r: r[1],
    ),
    steps=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 1500)), max_size=80),
)
def test_the_model_answers_as_the_lua_script(
    rates: list[tuple[int, int]], steps: list[tuple[int, int]]
) -> None:
    import redis

    url = os.environ.get("HARDENING_TEST_REDIS_URL")
    if not url:
        unavailable("HARDENING_TEST_REDIS_URL is not set", "HARDENING_TEST_REDIS_URL")
    client = redis.Redis.from_url(url)
    bucket = f"lease-{uuid.uuid4().hex}"
    both = [make_checks(rates, bucket + "-a"), make_checks(rates, bucket + "-b")]
    clock = FakeClock()
    tee = Tee(client, ModelRedis())
    pool = [Limiter() for _ in range(4)]
    try:
        for worker, gap_ms in steps:
            clock.advance(gap_ms / 1000)
            with installed(clock):
                pool[worker]._redis(tee, "", both[gap_ms % 2], [], CFG)
    finally:
        keys = list(client.scan_iter(match=f"hrl:*{{{bucket}-*}}*"))
        if keys:
            client.delete(*keys)
        client.close()
