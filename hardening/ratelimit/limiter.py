"""Counting: one Redis round trip (Lua) for all policies, or django-ratelimit's fixed
window on any other shared cache (memcached, database)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from django.core.cache import BaseCache, caches
from django_ratelimit.core import EXPIRATION_FUDGE, _make_cache_key

from hardening import clock as hardening_clock
from hardening.conf import conf
from hardening.ratelimit import cluster
from hardening.ratelimit.conf import Config
from hardening.ratelimit.decision import (
    Check,
    Decision,
    Revocation,
    WindowState,
    leased,
    summarise,
)
from hardening.ratelimit.fixed_window import violate, window_end
from hardening.ratelimit.keys import ban_key, window_key
from hardening.ratelimit.lease import LEASE_SECONDS, MAX_BATCH, SHARE, Leases
from hardening.ratelimit.redis_script import SCRIPT, SHA, read_reply, set_arguments
from hardening.ratelimit.target import is_cluster
from hardening.ratelimit.target import redis_client as redis_client  # re-exported
from hardening.ratelimit.target import redis_target as redis_target  # re-exported


class Limiter:
    """Decides a request.  Raises whatever the cache raises: the caller applies the
    fail-open/closed policy.

    Time: on Redis the script reads Redis' own ``TIME`` (hosts with skewed clocks agree);
    on other caches :func:`hardening.clock.now`.  While a test replaces the clock
    (:data:`hardening.clock.replaced`) the script gets :func:`hardening.clock.now` too.
    """

    def __init__(self) -> None:
        self.leases = Leases()

    @property
    def cache(self) -> BaseCache:
        return caches[conf.HARDENING_CACHE]

    def decide(
        self,
        checks: Sequence[Check],
        identities: Sequence[str],
        cfg: Config,
        revocation: Revocation | None = None,
    ) -> Decision:
        """``revocation`` is carried on Redis only (``Decision.revoked`` stays None else)."""
        target = redis_target()
        if target is not None and target.cluster:
            return cluster.decide(
                self.leases, target.client, target.prefix, checks, identities, cfg
            )
        if target is not None:
            return self._redis(target.client, target.prefix, checks, identities, cfg, revocation)
        cache = self.cache
        client = redis_client(cache)
        if client is not None and is_cluster(cache):
            return cluster.decide(self.leases, client, cache.make_key, checks, identities, cfg)
        if client is not None:  # a custom key function: make_key per key
            return self._redis(client, cache.make_key, checks, identities, cfg, revocation)
        return self._fallback(cache, checks, identities, cfg)

    # -- Redis ------------------------------------------------------------------------

    def _redis(
        self,
        client: Any,
        prefix: str | Callable[[str], str],
        checks: Sequence[Check],
        identities: Sequence[str],
        cfg: Config,
        revocation: Revocation | None = None,
    ) -> Decision:
        sig: tuple[str, ...] = ()
        want, back, starts = 0, (), ()  # type: tuple[int, Sequence[int], Sequence[int]]
        sent = 0.0
        if revocation is None and checks:  # leases: the common case of one set
            sig = tuple(window_key(c) for c in checks)
            sent = hardening_clock.monotonic()
            lease = self.leases.take(sig, sent)
            if lease is not None:
                return leased(lease)
            want, back, starts = self.leases.begin(sig, sent)
        names, set_args = set_arguments(checks, identities, cfg, want, back, starts)
        returned = self.leases.sweep(sent, sig) if sig else []
        revoked_names: list[str] = []
        if revocation is not None:
            revoked_names = list(revocation.keys)
            alt_names, alt_args = set_arguments(revocation.checks, revocation.identities, cfg)
            names += alt_names
            set_args += alt_args
        names = revoked_names + [r[0] for r in returned] + names
        if isinstance(prefix, str):
            keys = [prefix + name for name in names]
        else:
            keys = [prefix(name) for name in names]
        now = str(int(hardening_clock.now() * 1000)) if hardening_clock.replaced else ""
        head = [now, self.leases.token, SHARE, int(LEASE_SECONDS * 1000), MAX_BATCH, *cfg.ban_args]
        back_args = [v for _key, span, units, start in returned for v in (span, units, start)]
        args = [*head, len(revoked_names), len(returned), *back_args, *set_args]
        try:
            reply = client.evalsha(SHA, len(keys), *keys, *args)
        except Exception as exc:
            if type(exc).__name__ != "NoScriptError":  # redis is an optional dependency
                raise
            reply = client.eval(SCRIPT, len(keys), *keys, *args)
        decision = read_reply(reply, checks, identities, revocation)
        extra = int(reply[4])
        if sig and extra > 0 and decision.allowed:
            n = len(checks)
            starts = tuple(int(reply[5 + 5 * j + 4]) for j in range(n))
            reset_ms = min(int(reply[5 + 5 * j + 3]) for j in range(n))
            # Never past the window's end (1 ms below it: the script floors its milliseconds).
            deadline = sent - 0.001 + min(LEASE_SECONDS, reset_ms / 1000)
            spans = tuple(c.rate.seconds * 1000 for c in checks)
            self.leases.grant(sig, extra, starts, deadline, decision.windows, spans)
        return decision

    # -- other shared caches: django-ratelimit's fixed window ----------------------------

    def _fallback(
        self, cache: BaseCache, checks: Sequence[Check], identities: Sequence[str], cfg: Config
    ) -> Decision:
        now = hardening_clock.now()
        decision = Decision()
        if cfg.bans is not None and identities:
            found = cache.get_many([ban_key(i) for i in identities])
            for identity in identities:
                until = found.get(ban_key(identity))
                if until is not None:  # the cache's TTL ends the ban
                    decision.allowed = False
                    decision.banned = identity
                    decision.retry_after = max(1, math.ceil(float(until) - now))
                    return decision
        for check in checks:
            limit, period = check.rate.limit, check.rate.seconds
            end = window_end(check.bucket, period, now)
            key = _make_cache_key(check.policy.name, end, check.rate.text, check.bucket, None)
            if cache.add(key, 1, period + EXPIRATION_FUDGE):
                count = 1
            else:
                try:
                    count = cache.incr(key)
                except ValueError:  # expired between add() and incr()
                    cache.set(key, 1, period + EXPIRATION_FUDGE)
                    count = 1
            # django-ratelimit's window still counts at its end second: reset one later.
            reset = max(1, math.ceil(end + 1 - now))
            allowed = count <= limit
            wait = 0 if allowed else reset
            state = WindowState(check, allowed, wait, max(0, limit - count), reset)
            decision.windows.append(state)
        summarise(decision)
        if not decision.allowed and cfg.bans is not None:
            violators = [
                w.check.identity
                for w in decision.windows
                if not w.allowed and w.check.identity and w.check.policy.ban
            ]
            ban = violate(cache, violators, cfg.bans, now)
            if ban is not None:
                decision.new_ban = ban
                decision.retry_after = max(decision.retry_after, ban[1])
        return decision
