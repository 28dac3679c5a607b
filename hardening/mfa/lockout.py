"""Per-account login throttling: failures counted per normalised username, not per address.

Every failed login for an account (a refused password on ``POST /api/auth/token``, the
admin login or any ``django.contrib.auth.authenticate()`` call, and a refused code on the
MFA step) counts against ``username.strip().casefold()``.  ``HARDENING_LOCKOUT`` is a rate,
``"5/5m"`` by default: after 5 failures within 5 minutes the account is locked for the
rate's window (at most :data:`MAX_LOCK_SECONDS`, 15 minutes): every further attempt answers
429 with ``Retry-After`` *before the password is checked*, whatever the source address, so
the right password does not help either.  Unknown usernames are counted the same way (the
answer never says whether an account exists).  More attempts while locked neither extend
the lock nor count towards the next one, so an attacker cannot lock a user out for longer
than the bound, and the user's first typo afterwards does not re-lock.
``HARDENING_LOCKOUT = None`` turns the lock off.

Counters live in the shared cache (``HARDENING_CACHE``, shared by every worker) under a
SHA-256 of the username; a cache error fails closed (the attempt is refused, as the MFA
throttle does).  The clock is :func:`hardening.clock.now`.

Wiring: :class:`LockoutBackend` first in ``AUTHENTICATION_BACKENDS`` (refuses a locked
account in ``authenticate()``, like django-axes, and leaves the wait in
``request.hardening.lockout_wait``), :class:`LockoutMiddleware` turns such a refusal into
the 429; the token and MFA views check the lock themselves.
"""

from __future__ import annotations

import hashlib
import logging
import math
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from hardening import clock
from hardening.breaker import GuardedCache
from hardening.conf import conf as core
from hardening.errors import error_response
from hardening.mfa.conf import conf
from hardening.observability.audit import audit
from hardening.observability.metrics import AUTH_FAILURES
from hardening.outage import log_cache_failure
from hardening.parsers import clean_string
from hardening.ratelimit.policy import Rate
from hardening.request import HardeningMiddleware, state

logger = logging.getLogger("hardening.lockout")

#: However long the window of ``HARDENING_LOCKOUT``, no account stays locked longer.
MAX_LOCK_SECONDS = 900
BACKEND = "hardening.backends.LockoutBackend"
MIDDLEWARE = "hardening.middleware.LockoutMiddleware"


def normalise(username: object) -> str:
    return str(username).strip().casefold()


def _keys(username: object, window: int) -> tuple[str, str, str]:
    """(this window's counter, the previous window's counter, the lock)."""
    digest = hashlib.sha256(normalise(username).encode("utf-8", "replace")).hexdigest()[:32]
    bucket = int(clock.now() // window)
    prefix = f"hardening:lockout:{digest}"
    return f"{prefix}:f:{bucket}", f"{prefix}:f:{bucket - 1}", f"{prefix}:lock"


def lock_seconds(rate: Rate) -> int:
    """How long ``rate`` locks an account: its window, at most :data:`MAX_LOCK_SECONDS`."""
    return max(1, min(MAX_LOCK_SECONDS, rate.seconds))


def blocked_for(username: object) -> int:
    """Seconds until ``username`` may try again (0: now)."""
    rate = conf.HARDENING_LOCKOUT
    if rate is None or username is None:
        return 0
    try:
        until = GuardedCache(core.HARDENING_CACHE).get(_keys(username, rate.seconds)[2])
    except Exception as exc:  # fail closed: a broken cache must not lift the limit
        log_cache_failure(logger, "account lockout counters", exc)
        return lock_seconds(rate)
    left = (float(until) - clock.now()) if isinstance(until, int | float) else 0.0
    return min(lock_seconds(rate), math.ceil(left)) if left > 0 else 0


def record_failure(username: object, request: HttpRequest | None = None) -> None:
    """Count one failure for ``username``; the one reaching the limit starts the lock.

    The count is this fixed window's plus the previous one's, so failures straddling a
    window boundary still add up (N failures within at most two windows lock).  An attempt
    made while the account is locked is not counted: it was refused by the lock itself
    (``LockoutBackend``'s PermissionDenied makes Django send ``user_login_failed``), and
    counting it would re-lock the account on the first wrong password after the lock.  For
    the same reason the lock clears the counters: the failures that caused it are spent."""
    rate = conf.HARDENING_LOCKOUT
    if rate is None or username is None or blocked_for(username):
        return
    count_key, previous_key, lock_key = _keys(username, rate.seconds)
    duration = lock_seconds(rate)
    try:
        cache = GuardedCache(core.HARDENING_CACHE)
        timeout = 2 * rate.seconds + 5
        count = 1
        if not cache.add(count_key, 1, timeout):
            try:
                count = int(cache.incr(count_key))
            except ValueError:  # expired between add() and incr()
                cache.add(count_key, 1, timeout)
        count += int(cache.get(previous_key) or 0)
        if count >= rate.limit and not blocked_for(username):
            cache.set(lock_key, clock.now() + duration, duration + 5)
            cache.delete_many([count_key, previous_key])  # the lock spent these failures
            AUTH_FAILURES.labels(reason="account_locked").inc()
            audit("auth.locked", request=request, seconds=duration)
    except Exception as exc:
        log_cache_failure(logger, "account lockout counters", exc)


def locked_response(retry_after: float) -> HttpResponse:
    return error_response(
        429,
        "account_locked",
        "Too many failed logins for this account; try again later.",
        headers={"Retry-After": str(max(1, math.ceil(retry_after)))},
    )


def _username(credentials: dict[str, Any], username: Any = None) -> Any:
    if username is not None:
        return username
    return credentials.get(get_user_model().USERNAME_FIELD, credentials.get("username"))


class LockoutBackend:
    """First in ``AUTHENTICATION_BACKENDS``: refuses a locked account before any password
    hash is computed (``authenticate()`` stops at ``PermissionDenied``), and a username
    with NUL or a lone surrogate before any backend queries the database with it."""

    def authenticate(
        self, request: HttpRequest | None, username: Any = None, **credentials: Any
    ) -> None:
        name = _username(credentials, username)
        if isinstance(name, str) and not clean_string(name):
            # NUL or a lone surrogate: no database can look it up (PostgreSQL raises
            # DataError), so end authenticate() here; the login simply fails.
            raise PermissionDenied("unusable username")
        wait = blocked_for(name)
        if wait:
            if request is not None:
                state(request).lockout_wait = wait
            raise PermissionDenied("account locked")
        return None

    def get_user(self, user_id: Any) -> Any:
        # Django's force_login() and login() without an explicit backend record the first
        # backend in the session: resolve users like ModelBackend so those sessions work.
        return ModelBackend().get_user(user_id)


class LockoutMiddleware(HardeningMiddleware):
    """Answers 429 + ``Retry-After`` when :class:`LockoutBackend` refused a login."""

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        return self._finish(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> Any:
        return self._finish(request, await self.get_response(request))

    @staticmethod
    def _finish(request: HttpRequest, response: Any) -> Any:
        wait = state(request).lockout_wait
        return locked_response(wait) if wait else response


def _login_failed(sender: Any, credentials: Any = None, request: Any = None, **kw: Any) -> None:
    if isinstance(credentials, dict):
        http = request if isinstance(request, HttpRequest) else None
        record_failure(_username(credentials), http)


def connect() -> None:
    """Count every ``user_login_failed`` (called by ``HardeningConfig.ready()``)."""
    user_login_failed.connect(_login_failed, dispatch_uid="hardening.mfa.lockout.login_failed")
