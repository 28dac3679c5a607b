"""Per-user and per-IP limits on failed MFA attempts (fixed windows in a shared cache).

The per-device exponential back-off lives on the device row (``devices.py``); these
counters bound what one account or one client address can try across devices and
``mfa_token`` values.  Counting uses ``add()`` then ``incr()`` (atomic in Redis and
Memcached) in the shared cache, ``HARDENING_CACHE``; a cache failure fails closed: the
attempt is refused for one window.  The client address is the one the first hardening
middleware resolved (``request.hardening.client_ip``).  The cache goes through the alias's
circuit breaker (``hardening.breaker``): during an outage the counters are skipped at once
instead of waiting for a socket timeout per call.
"""

from __future__ import annotations

import logging
import math

from django.http import HttpRequest

from hardening import clock
from hardening.breaker import GuardedCache
from hardening.conf import conf as core
from hardening.outage import log_cache_failure
from hardening.request import state

logger = logging.getLogger("hardening.mfa")

#: Seconds over which the per-user and per-IP failures are counted (fixed windows).
FAILURE_WINDOW = 900
#: Failed MFA attempts per user and window before 429 (ASVS 2.2.1: <= 100 an hour).
USER_MAX_FAILURES = 10
#: Failed MFA attempts per client address and window before 429.
IP_MAX_FAILURES = 50


def client_ip(request: HttpRequest) -> str:
    """The client address (:mod:`hardening.clientip`), ``-`` when unknown."""
    return state(request).client_ip or "-"


def _window() -> tuple[int, int]:
    window = max(1, FAILURE_WINDOW)
    now = clock.now()
    bucket = int(now // window)
    return bucket, max(1, math.ceil((bucket + 1) * window - now))


def _keys(user_id: object, ip: str) -> list[tuple[str, int]]:
    bucket, _ = _window()
    return [
        (f"hardening:mfa:fail:u:{user_id}:{bucket}", USER_MAX_FAILURES),
        (f"hardening:mfa:fail:ip:{ip}:{bucket}", IP_MAX_FAILURES),
    ]


def blocked_for(user_id: object, ip: str) -> int:
    """Seconds until the next attempt is allowed (0: allowed now)."""
    _, left = _window()
    try:
        cache = GuardedCache(core.HARDENING_CACHE)
        for key, limit in _keys(user_id, ip):
            if int(cache.get(key) or 0) >= limit:
                return left
    except Exception as exc:  # fail closed: a broken cache must not lift the limit
        log_cache_failure(logger, "MFA failure counters", exc)
        return left
    return 0


def attempts_left(user_id: object, ip: str) -> int:
    """Failed attempts still allowed in this window for ``user_id`` from ``ip`` (for messages)."""
    try:
        cache = GuardedCache(core.HARDENING_CACHE)
        return max(0, min(limit - int(cache.get(key) or 0) for key, limit in _keys(user_id, ip)))
    except Exception as exc:
        log_cache_failure(logger, "MFA failure counters", exc)
        return 0


def record_failure(user_id: object, ip: str) -> None:
    timeout = max(1, FAILURE_WINDOW) + 5
    for key, _limit in _keys(user_id, ip):
        try:
            cache = GuardedCache(core.HARDENING_CACHE)
            if not cache.add(key, 1, timeout):
                try:
                    cache.incr(key)
                except ValueError:  # expired between add() and incr()
                    cache.add(key, 1, timeout)
        except Exception as exc:
            log_cache_failure(logger, "MFA failure counters", exc)


def reset_user(user_id: object) -> None:
    """A successful verification clears the user's counter (not the IP's)."""
    key = _keys(user_id, "-")[0][0]
    try:
        GuardedCache(core.HARDENING_CACHE).delete(key)
    except Exception as exc:
        log_cache_failure(logger, "MFA failure counters", exc)


def ip_blocked_for(ip: str) -> int:
    """Seconds until ``ip`` may try again, by its failure counter alone (0: now); for
    attempts that name no account (an unknown passkey)."""
    _, left = _window()
    key, limit = _keys("-", ip)[1]
    try:
        return left if int(GuardedCache(core.HARDENING_CACHE).get(key) or 0) >= limit else 0
    except Exception as exc:  # fail closed
        log_cache_failure(logger, "MFA failure counters", exc)
        return left


def record_ip_failure(ip: str) -> None:
    key, _limit = _keys("-", ip)[1]
    timeout = max(1, FAILURE_WINDOW) + 5
    try:
        cache = GuardedCache(core.HARDENING_CACHE)
        if not cache.add(key, 1, timeout):
            try:
                cache.incr(key)
            except ValueError:
                cache.add(key, 1, timeout)
    except Exception as exc:
        log_cache_failure(logger, "MFA failure counters", exc)
