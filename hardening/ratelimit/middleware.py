"""``RateLimitMiddleware``: every policy, site-wide, in one cache round trip.

Place it after AuthenticationMiddleware and the JWT middleware (it reads ``request.user``,
or the verified ``state(request).bearer_user`` where a bearer token is not the request's user) and
before the views.

Directly after the JWT middleware, it also carries the revocation lookup of the request's
own access token in the same script (``hardening.jwt.auth``), and settles that lookup with
the direct cache read on every path where the script does not run.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from hardening.apikeys.auth import key_id as api_key_id
from hardening.breaker import for_cache
from hardening.conf import conf as core
from hardening.conf.core import api_path
from hardening.errors import error_response
from hardening.jwt.auth import settle_revocation
from hardening.observability.audit import audit
from hardening.observability.metrics import BANS, RATELIMIT_BLOCKS, RATELIMIT_CACHE_ERRORS
from hardening.outage import BreakerOpen, is_outage
from hardening.ratelimit.conf import conf, config
from hardening.ratelimit.decision import Check, Decision, Revocation
from hardening.ratelimit.decorators import EXEMPT, view_policies
from hardening.ratelimit.headers import ratelimit_headers
from hardening.ratelimit.ip import masked_ip
from hardening.ratelimit.limiter import Limiter
from hardening.ratelimit.policy import Policy
from hardening.request import GetResponse, HardeningMiddleware, state

logger = logging.getLogger("hardening.ratelimit")

#: Retry-After (seconds) of the 503 a fail-closed policy returns when the cache is down.
FAIL_CLOSED_RETRY_AFTER = 5

Outcome = tuple[HttpResponseBase | None, dict[str, str]]


def limited_user(request: HttpRequest) -> Any:
    """The user the per-user limits count: the authenticated ``request.user``, else the user
    of a verified bearer token the JWT middleware recorded outside the API paths."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return user
    return state(request).bearer_user


def _user_if_revoked(request: HttpRequest) -> Any:
    """:func:`limited_user` once the request's bearer token is refused (``_revoke``)."""
    user = getattr(request, "user", None)
    if api_path(request.path_info) or user is None or not user.is_authenticated:
        return None
    return user


def _checks(
    request: HttpRequest, policies: list[Policy], user: Any = False
) -> tuple[list[Check], list[str]]:
    """The checks and ban identities of ``request`` for ``user`` (False: :func:`limited_user`)."""
    user = limited_user(request) if user is False else user
    user_id = str(user.pk) if user is not None and user.is_authenticated else None
    ip = "ip:" + (masked_ip(state(request).client_ip) or "unknown")
    uid = f"u:{user_id}" if user_id else None
    key = api_key_id(request)
    kid = f"key:{key}" if key else None
    checks: list[Check] = []
    for policy in policies:
        if policy.key == "global":
            bucket: str | None = "*"
        elif policy.key == "user":
            bucket = uid
        elif policy.key == "anon":
            bucket = None if uid else ip
        elif policy.key == "ip":
            bucket = ip
        elif policy.key == "api_key":
            bucket = kid
        else:  # user_or_ip
            bucket = uid or ip
        if bucket is None:
            continue
        identity = None if bucket == "*" else bucket
        checks.extend(Check(policy, rate, bucket, identity) for rate in policy.rates)
    identities = [uid, ip] if uid else [ip]
    if kid:
        identities.insert(0, kid)
    return checks, identities


class RateLimitMiddleware(HardeningMiddleware):
    def __init__(self, get_response: GetResponse) -> None:
        super().__init__(get_response)
        self.limiter = Limiter()

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        refused, headers = self.check(request)
        if refused is not None:
            return refused
        response = self.get_response(request)
        assert isinstance(response, HttpResponseBase)  # type narrow
        return _with_headers(response, headers)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        refused, headers = await sync_to_async(self.check)(request)
        if refused is not None:
            return refused
        response = self.get_response(request)
        assert not isinstance(response, HttpResponseBase)  # type narrow
        return _with_headers(await response, headers)

    def check(self, request: HttpRequest) -> Outcome:
        """The refusal (or None) and the RateLimit headers for the response; a revocation
        lookup the script did not carry is settled here, before the view (never skipped)."""
        try:
            outcome = self._check(request)
        except BaseException:
            settle_revocation(request)
            raise
        if outcome[0] is None:
            settle_revocation(request)  # a no-op when the script carried it
        return outcome

    def _check(self, request: HttpRequest) -> Outcome:
        if not conf.HARDENING_RATELIMIT_ENABLED:
            return None, {}
        cfg = config()
        path = request.path_info
        if cfg.exempt.matches(path):
            return None, {}
        extra = view_policies(request)
        if extra == EXEMPT:
            return None, {}
        method = request.method or "GET"
        policies = [p for p in cfg.policies if p.matches(path, method)]
        policies += [p for p in extra if isinstance(p, Policy) and p.matches(path, method)]
        checks, identities = _checks(request, policies)
        revocation = None
        keys = state(request).revocation_pending
        if keys:  # the refused token's request is limited as without it: one script
            alternative = _checks(request, policies, _user_if_revoked(request))
            revocation = Revocation(keys, *alternative)
        if not checks and not (revocation and revocation.checks):
            return None, {}
        breaker = for_cache(core.HARDENING_CACHE)
        if not breaker.allow():  # Redis is being skipped after an outage: decide at once
            return self._cache_error(request, {c.policy for c in checks}, BreakerOpen()), {}
        try:
            decision = self.limiter.decide(checks, identities, cfg, revocation)
        except Exception as exc:  # noqa: BLE001 - any cache failure: apply fail open/closed
            # An outage is audited once, when it opens the breaker; other errors each time.
            first = True
            if is_outage(exc):
                first = breaker.failure(exc)
            else:
                breaker.success()  # the cache answered
            return self._cache_error(request, {c.policy for c in checks}, exc, first), {}
        breaker.success()
        if decision.revoked is not None:
            settle_revocation(request, decision.revoked)
        headers = ratelimit_headers(decision.windows) if cfg.headers else {}
        if decision.allowed:
            return None, headers
        return self._refuse(request, decision, headers), {}

    def _refuse(
        self, request: HttpRequest, decision: Decision, headers: dict[str, str]
    ) -> HttpResponse:
        policy = decision.policy or "ban"
        RATELIMIT_BLOCKS.labels(policy=policy).inc()
        audit(
            "ratelimit.limited",
            request=request,
            policy=policy,
            banned=decision.banned is not None,
            retry_after=decision.retry_after,
        )
        if decision.new_ban is not None:
            identity, seconds = decision.new_ban
            BANS.labels(policy=policy).inc()
            audit(
                "ratelimit.banned",
                request=request,
                policy=policy,
                identity=identity.split(":", 1)[0],
                seconds=seconds,
            )
        headers = {**headers, "Retry-After": str(decision.retry_after)}
        if decision.banned is not None or decision.new_ban is not None:
            detail = "Too many requests: you are temporarily blocked."
            return error_response(429, "banned", detail, headers=headers)
        detail = "Too many requests; retry after the Retry-After delay."
        return error_response(429, "rate_limited", detail, headers=headers)

    def _cache_error(
        self, request: HttpRequest, policies: set[Policy], exc: Exception, first: bool = False
    ) -> HttpResponse | None:
        closed = sorted(p.name for p in policies if not p.fail_open)
        for policy in policies:
            outcome = "open" if policy.fail_open else "closed"
            RATELIMIT_CACHE_ERRORS.labels(policy=policy.name, outcome=outcome).inc()
        if first:  # one audit line per outage (the breaker logs its end), not per request
            audit(
                "ratelimit.cache_error",
                request=request,
                error=type(exc).__name__,
                outcome="closed" if closed else "open",
                policies=sorted(p.name for p in policies),
            )
        if not closed:
            return None
        return error_response(
            503,
            "rate_limit_unavailable",
            "The service is temporarily unavailable; try again shortly.",
            headers={"Retry-After": str(FAIL_CLOSED_RETRY_AFTER)},
        )


def _with_headers(response: HttpResponseBase, headers: dict[str, str]) -> HttpResponseBase:
    for name, value in headers.items():
        response.headers.setdefault(name, value)
    return response
