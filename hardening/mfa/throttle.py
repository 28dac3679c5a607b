"""Per-user and per-IP limits on failed MFA attempts (fixed windows in a shared cache).

The per-device exponential back-off lives on the device row (``devices.py``); these
counters bound what one account or one client address can try across devices and
``mfa_token`` values.  Counting uses ``add()`` then ``incr()`` (atomic in Redis and
Memcached); a cache failure fails closed: the attempt is refused for one window.  The
cache goes through the alias's circuit breaker (``hardening.breaker``): during an outage
the counters are skipped at once instead of waiting for a socket timeout per call.
"""

from __future__ import annotations

import logging
import math

from django.http import HttpRequest

from hardening.breaker import GuardedCache, log_cache_failure
from hardening.conf import conf
from hardening.mfa import clock
from hardening.request import state

__all__ = ["attempts_left", "blocked_for", "client_ip", "record_failure", "reset_user"]

logger = logging.getLogger("hardening.mfa")


def client_ip(request: HttpRequest) -> str:
    """The client address (:mod:`hardening.clientip`), ``-`` when unknown."""
    return state(request).client_ip or "-"


def _window() -> tuple[int, int]:
    window = max(1, conf.HARDENING_MFA_FAILURE_WINDOW)
    now = clock.now()
    bucket = int(now // window)
    return bucket, max(1, math.ceil((bucket + 1) * window - now))


def _keys(user_id: object, ip: str) -> list[tuple[str, int]]:
    bucket, _ = _window()
    return [
        (f"hardening:mfa:fail:u:{user_id}:{bucket}", conf.HARDENING_MFA_USER_MAX_FAILURES),
        (f"hardening:mfa:fail:ip:{ip}:{bucket}", conf.HARDENING_MFA_IP_MAX_FAILURES),
    ]


def blocked_for(user_id: object, ip: str) -> int:
    """Seconds until the next attempt is allowed (0: allowed now)."""
    _, left = _window()
    try:
        cache = GuardedCache(conf.HARDENING_MFA_CACHE)
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
        cache = GuardedCache(conf.HARDENING_MFA_CACHE)
        return max(0, min(limit - int(cache.get(key) or 0) for key, limit in _keys(user_id, ip)))
    except Exception as exc:
        log_cache_failure(logger, "MFA failure counters", exc)
        return 0


def record_failure(user_id: object, ip: str) -> None:
    timeout = max(1, conf.HARDENING_MFA_FAILURE_WINDOW) + 5
    for key, _limit in _keys(user_id, ip):
        try:
            cache = GuardedCache(conf.HARDENING_MFA_CACHE)
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
        GuardedCache(conf.HARDENING_MFA_CACHE).delete(key)
    except Exception as exc:
        log_cache_failure(logger, "MFA failure counters", exc)
