"""Deciding a request on a Redis Cluster: one script per hash-tagged identity (one slot
each: ``{u:42}``, ``{ip:192.0.2.1}``, the site-wide ``{*}``), all of them in one redis-py
cluster pipeline, so the scripts for different nodes are in flight at once and ``MOVED`` /
``ASK`` are followed by redis-py.

The slots cannot decide atomically together: a group that admits has already counted the
request when another group refuses it.  That unit is then kept as a lease of the admitting
group (``hardening.ratelimit.lease``): it is counted in that window, was not used, and is
either used by the worker's next request of that key within the lease's life or given back
by its next round trip — the window never admits more than its limit.  A group with bans
only (the identity has no window of its own on this request) may be leased too: "not banned"
is then trusted for at most the lease's life, as on a single Redis.
The revocation lookup of ``hardening.jwt.auth`` is not carried here (its keys are in other
slots); the middleware settles it with its own read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from hardening import clock as hardening_clock
from hardening.ratelimit.decision import Check, Decision, WindowState, leased, summarise
from hardening.ratelimit.keys import ban_key, window_key
from hardening.ratelimit.lease import LEASE_SECONDS, MAX_BATCH, SHARE, Lease, Leases
from hardening.ratelimit.redis_script import SCRIPT, SHA, read_reply, set_arguments

if TYPE_CHECKING:
    from hardening.ratelimit.conf import Config


class _Group:
    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.checks: list[Check] = []
        self.identities: list[str] = []
        self.lease: Lease | None = None
        self.reply: Any = None

    @property
    def sig(self) -> tuple[str, ...]:
        if self.checks:
            return tuple(window_key(c) for c in self.checks)
        return tuple(ban_key(i) for i in self.identities)


def _groups(checks: Sequence[Check], identities: Sequence[str], cfg: Config) -> list[_Group]:
    groups: dict[str, _Group] = {}
    for check in checks:
        groups.setdefault(check.bucket, _Group(check.bucket)).checks.append(check)
    if cfg.bans is not None:
        for identity in identities:
            groups.setdefault(identity, _Group(identity)).identities.append(identity)
    return list(groups.values())


def decide(
    leases: Leases,
    client: Any,
    prefix: str | Callable[[str], str],
    checks: Sequence[Check],
    identities: Sequence[str],
    cfg: Config,
) -> Decision:
    groups = _groups(checks, identities, cfg)
    sent = hardening_clock.monotonic()
    pending = []
    for group in groups:
        group.lease = leases.take(group.sig, sent)
        if group.lease is None:
            pending.append(group)
    calls = []
    for group in pending:
        want, back, starts = leases.begin(group.sig, sent)
        names, set_args = set_arguments(group.checks, group.identities, cfg, want, back, starts)
        if isinstance(prefix, str):
            keys = [prefix + name for name in names]
        else:
            keys = [prefix(name) for name in names]
        now = str(int(hardening_clock.now() * 1000)) if hardening_clock.replaced else ""
        head = [now, leases.token, SHARE, int(LEASE_SECONDS * 1000), MAX_BATCH, *cfg.ban_args]
        calls.append((len(keys), *keys, *head, 0, 0, *set_args))  # nr, nret: none
    for group, reply in zip(pending, _run(client, calls), strict=True):
        group.reply = reply

    decision = Decision()
    parts: dict[int, Decision] = {}
    for n, group in enumerate(groups):
        if group.reply is not None:
            parts[n] = read_reply(group.reply, group.checks, group.identities, None)
    by_check: dict[int, WindowState] = {}
    for n, group in enumerate(groups):
        part = parts.get(n)
        windows = part.windows if part is not None else _leased_windows(group)
        for state in windows:
            by_check[id(state.check)] = state
    decision.windows = [by_check[id(c)] for c in checks if id(c) in by_check]
    summarise(decision)
    banned = next((p for p in parts.values() if p.banned is not None), None)
    if banned is not None:
        decision.allowed = False
        decision.banned = banned.banned
        decision.retry_after = banned.retry_after
    decision.new_ban = next((p.new_ban for p in parts.values() if p.new_ban), None)
    if decision.new_ban is not None:
        decision.retry_after = max(decision.retry_after, decision.new_ban[1])
    _keep_units(leases, groups, parts, decision.allowed, sent)
    return decision


def _leased_windows(group: _Group) -> list[WindowState]:
    assert group.lease is not None  # type narrow
    return leased(group.lease).windows


def _keep_units(
    leases: Leases, groups: list[_Group], parts: dict[int, Decision], allowed: bool, sent: float
) -> None:
    """Leases from the admitting groups; a refused request's units stay leased."""
    for n, group in enumerate(groups):
        part = parts.get(n)
        if part is None:
            if not allowed:
                leases.untake(group.sig)
            continue
        if not part.allowed:
            continue
        extra = int(group.reply[4]) + (0 if allowed else 1)
        if extra <= 0:
            continue
        count = len(group.checks)
        starts = tuple(int(group.reply[5 + 5 * j + 4]) for j in range(count))
        reset_ms = min(
            (int(group.reply[5 + 5 * j + 3]) for j in range(count)),
            default=int(LEASE_SECONDS * 1000),
        )
        deadline = sent - 0.001 + min(LEASE_SECONDS, reset_ms / 1000)
        leases.grant(group.sig, extra, starts, deadline, part.windows)


def _run(client: Any, calls: list[tuple[Any, ...]]) -> list[Any]:
    """EVALSHA each call in one cluster pipeline (loading the script where it is missing,
    e.g. on a newly promoted master); the first error is raised."""
    if not calls:
        return []
    for attempt in range(2):
        pipe = client.pipeline()
        for call in calls:
            pipe.execute_command("EVALSHA", SHA, *call)
        replies = pipe.execute(raise_on_error=False)
        missing = any(type(r).__name__ == "NoScriptError" for r in replies)
        if missing and attempt == 0:
            client.script_load(SCRIPT)
            continue
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        return list(replies)
    raise AssertionError("unreachable")  # pragma: no cover
