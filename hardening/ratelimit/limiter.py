"""Counting: one Redis round trip (Lua) for all policies, or django-ratelimit's fixed
window on any other shared cache (memcached, database)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.core.cache import BaseCache, caches
from django.core.cache.backends.base import default_key_func
from django.core.signals import setting_changed
from django.dispatch import receiver
from django_ratelimit.core import EXPIRATION_FUDGE, _make_cache_key

from hardening import clock as hardening_clock
from hardening.conf import conf
from hardening.ratelimit.conf import NAMES, Config
from hardening.ratelimit.fixed_window import violate, window_end
from hardening.ratelimit.policy import Policy, Rate
from hardening.ratelimit.redis_script import SCRIPT, SHA


def ban_key(identity: str) -> str:
    return f"hrl:ban:{identity}"


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


def redis_client(cache: BaseCache) -> Any | None:
    """The redis-py client behind django-redis's or Django's RedisCache, else None."""
    client = getattr(cache, "client", None)  # django-redis DefaultClient
    if client is not None and hasattr(client, "get_client") and hasattr(client, "_clients"):
        return client.get_client(write=True)
    inner = getattr(cache, "_cache", None)  # django.core.cache.backends.redis
    if type(cache).__module__ == "django.core.cache.backends.redis" and inner is not None:
        return inner.get_client(write=True)
    return None


@dataclass(frozen=True)
class RedisTarget:
    """The redis-py client and key prefix of the rate-limit cache, resolved once."""

    client: Any
    prefix: str  # cache.make_key(k) == prefix + k (checked when resolved)


_PROBE = "hrl:probe"


@lru_cache(maxsize=1)
def redis_target() -> RedisTarget | None:
    """The shared cache's client and prefix when it is Redis with Django's default key
    function, else None (the caller then goes through the cache object).

    redis-py clients are thread-safe and share their connection pool, so one per process
    is enough; cleared when CACHES, HARDENING_CACHE or a rate-limit setting changes.
    """
    cache = caches[conf.HARDENING_CACHE]
    client = redis_client(cache)
    if client is None or getattr(cache, "key_func", None) is not default_key_func:
        return None
    prefix = f"{cache.key_prefix}:{cache.version}:"
    if str(cache.make_key(_PROBE)) != prefix + _PROBE:  # a backend with its own make_key
        return None
    return RedisTarget(client, prefix)


@receiver(setting_changed)
def _clear(*, setting: str, **kwargs: object) -> None:
    if setting in ("CACHES", "HARDENING_CACHE") or setting in NAMES:
        redis_target.cache_clear()


class Limiter:
    """Decides a request.  Raises whatever the cache raises: the caller applies the
    fail-open/closed policy.

    Time: on Redis the script reads Redis' own ``TIME`` (hosts with skewed clocks agree);
    on other caches :func:`hardening.clock.now`.  While a test replaces the clock
    (:data:`hardening.clock.replaced`) the script gets :func:`hardening.clock.now` too.
    """

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
        if target is not None:
            return self._redis(target.client, target.prefix, checks, identities, cfg, revocation)
        cache = self.cache
        client = redis_client(cache)
        if client is not None:  # a custom key function: make_key per key
            return self._redis(client, cache.make_key, checks, identities, cfg, revocation)
        return self._fallback(cache, checks, identities, cfg)

    # -- Redis ------------------------------------------------------------------------

    @staticmethod
    def _set(
        checks: Sequence[Check], identities: Sequence[str], cfg: Config
    ) -> tuple[list[str], list[Any]]:
        """The key names and ARGV of one set of checks (see ``redis_script``)."""
        if cfg.bans is None:
            identities = ()
        names = [f"hrl:ban:{i}" for i in identities]
        names += [f"hrl:vio:{i}" for i in identities]
        names += [f"hrl:lvl:{i}" for i in identities]
        names += [f"hrl:w:{c.policy.name}:{c.rate.seconds}:{c.bucket}" for c in checks]
        args: list[Any] = [len(identities), len(checks)]
        for c in checks:
            identity = c.identity
            ident = 0
            if identity and c.policy.ban and identity in identities:
                ident = identities.index(identity) + 1
            args += [c.rate.limit, c.rate.seconds * 1000, ident]
        return names, args

    def _redis(
        self,
        client: Any,
        prefix: str | Callable[[str], str],
        checks: Sequence[Check],
        identities: Sequence[str],
        cfg: Config,
        revocation: Revocation | None = None,
    ) -> Decision:
        names, set_args = self._set(checks, identities, cfg)
        revoked_names: list[str] = []
        if revocation is not None:
            revoked_names = list(revocation.keys)
            alt_names, alt_args = self._set(revocation.checks, revocation.identities, cfg)
            names += alt_names
            set_args += alt_args
        names = revoked_names + names
        if isinstance(prefix, str):
            keys = [prefix + name for name in names]
        else:
            keys = [prefix(name) for name in names]
        now = str(int(hardening_clock.now() * 1000)) if hardening_clock.replaced else ""
        args = [now, *cfg.ban_args, len(revoked_names), *set_args]
        try:
            reply = client.evalsha(SHA, len(keys), *keys, *args)
        except Exception as exc:
            if type(exc).__name__ != "NoScriptError":  # redis is an optional dependency
                raise
            reply = client.eval(SCRIPT, len(keys), *keys, *args)
        status, ident, ban_ms = int(reply[0]), int(reply[1]), int(reply[2])
        decision = Decision()
        if revocation is not None:
            decision.revoked = int(reply[3]) == 1
            if decision.revoked:
                checks, identities = revocation.checks, revocation.identities
        if status == 3:
            decision.allowed = False
            decision.banned = identities[ident - 1]
            decision.retry_after = max(1, math.ceil(ban_ms / 1000))
            return decision
        windows = decision.windows
        n = 4
        for check in checks:
            ok = int(reply[n]) != 0
            wait = 0 if ok else math.ceil(int(reply[n + 1]) / 1000)
            reset = math.ceil(int(reply[n + 3]) / 1000)
            windows.append(WindowState(check, ok, wait, int(reply[n + 2]), reset))
            n += 4
        self._summarise(decision)
        if status == 2:
            decision.new_ban = (identities[ident - 1], ban_ms // 1000)
            decision.retry_after = max(decision.retry_after, ban_ms // 1000)
        return decision

    @staticmethod
    def _summarise(decision: Decision) -> None:
        refused = [w for w in decision.windows if not w.allowed]
        if refused:
            decision.allowed = False
            decision.policy = refused[0].check.policy.name
            decision.retry_after = max(1, *(w.wait for w in refused))

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
        self._summarise(decision)
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
