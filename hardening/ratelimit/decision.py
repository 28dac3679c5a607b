"""What the rate limiter decides about and what it answers: a :class:`Check` (one window of
one policy for one bucket), the state of each window, and the :class:`Decision`.

These are plain values: the counting (:mod:`hardening.ratelimit.limiter`, on a Redis Cluster
:mod:`hardening.ratelimit.cluster`), the key names (:mod:`hardening.ratelimit.keys`) and the
script's arguments and reply (:mod:`hardening.ratelimit.redis_script`) all build on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hardening.ratelimit.lease import Lease
from hardening.ratelimit.policy import Policy, Rate


@dataclass(frozen=True)
class Check:
    """One window of one policy for one bucket (``u:42``, ``ip:192.0.2.1``, ``*``)."""

    policy: Policy
    rate: Rate
    bucket: str
    identity: str | None  # the identity a refusal counts against (None: no bans)


@dataclass(frozen=True)
class WindowState:
    check: Check
    allowed: bool
    wait: int  # seconds until this window admits one more request (0 if allowed)
    remaining: int
    reset: int  # seconds until the window ends


@dataclass
class Decision:
    allowed: bool = True
    retry_after: int = 0
    policy: str | None = None  # first policy that refused
    banned: str | None = None  # identity under an existing ban
    new_ban: tuple[str, int] | None = None  # (identity, seconds)
    windows: list[WindowState] = field(default_factory=list)
    revoked: bool | None = None  # the revocation lookup's answer; None = not carried


@dataclass(frozen=True)
class Revocation:
    """A revocation lookup for the script to carry (``hardening.jwt.auth``): the keys (before
    ``make_key``), and the checks that apply instead when one of them exists."""

    keys: Sequence[str]
    checks: Sequence[Check]
    identities: Sequence[str]


def summarise(decision: Decision) -> None:
    """Refuse ``decision`` when a window refused: the first such policy, the longest wait."""
    refused = [w for w in decision.windows if not w.allowed]
    if refused:
        decision.allowed = False
        decision.policy = refused[0].check.policy.name
        decision.retry_after = max(1, *(w.wait for w in refused))


def leased(lease: Lease) -> Decision:
    """An admission from a lease: the windows as the lease's round trip saw them."""
    windows = [
        WindowState(w.check, True, 0, w.remaining + lease.left, w.reset) for w in lease.windows
    ]
    return Decision(windows=windows)
