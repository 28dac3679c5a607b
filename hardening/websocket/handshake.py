"""The handshake of one WebSocket connection, decided before it is accepted.

:func:`handshake` runs in a worker thread (it may read the database, the cache or a JWKS)
on a Django request made from the connection's ASGI scope (:func:`websocket_request`), so
every HTTP building block applies to it unchanged: the client address
(:mod:`hardening.clientip`), ``request.hardening``, the bearer-token path of
:func:`hardening.jwt.auth.authenticate` (own tokens, Clerk, OIDC: counted and audited as on
HTTP), the rate-limit policies and bans of :class:`~hardening.middleware.RateLimitMiddleware`,
and the MFA rule of :func:`hardening.mfa.policy.refusal`.

In order: the ``Host`` against ``ALLOWED_HOSTS`` and the ``Origin`` (:func:`origin_allowed`)
-> the credential (the ``bearer`` subprotocol pair, an ``Authorization`` header, the opt-in
query parameter, Clerk's session cookie where configured, else Django's session cookie) ->
the connect rate limits (also for a refused credential: it counts against the client
address) -> the refusal of a missing or bad credential -> the MFA rule.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import import_module
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlparse

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse

from hardening import clock
from hardening.jwt.auth import authenticate
from hardening.jwt.jws import TokenRejected
from hardening.mfa.policy import is_exempt_path, refusal
from hardening.request import Credential, attach, state
from hardening.websocket.conf import (
    FORBIDDEN,
    QUERY_PARAMETER,
    SUBPROTOCOL,
    TOO_MANY,
    UNAUTHENTICATED,
    UNAVAILABLE,
    conf,
)

P = ParamSpec("P")
R = TypeVar("R")

_SCHEMES = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


@dataclass(frozen=True)
class Refused:
    """Close before accept with ``code``; ``reason`` labels the metric and the audit line."""

    code: int
    reason: str
    #: The handshake's request (for the audit line's client address and user).
    request: HttpRequest | None = field(default=None, compare=False, repr=False)


@dataclass
class Admitted:
    request: HttpRequest
    user: Any
    credential: Credential | None
    #: The subprotocols the client offered, without the ``bearer`` pair.
    subprotocols: list[str] = field(default_factory=list)
    #: True when the token came as the ``bearer`` subprotocol (the accept must echo it).
    echo_bearer: bool = False

    @property
    def expires(self) -> float | None:
        """The token's ``exp`` (Unix time), None for a session or a token without one."""
        if self.credential is None:
            return None
        exp = self.credential.claims.get("exp")
        return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


def websocket_request(scope: dict[str, Any]) -> ASGIRequest:
    """A Django request for the handshake of a ``websocket`` scope (a GET of its path)."""
    scheme = _SCHEMES.get(str(scope.get("scheme") or "ws"), "http")
    return ASGIRequest({**scope, "type": "http", "method": "GET", "scheme": scheme}, io.BytesIO())


def bearer_subprotocol(protocols: list[str]) -> tuple[str | None, list[str]]:
    """``(token, the other protocols)`` of ``Sec-WebSocket-Protocol``: the token follows
    ``bearer``; ``""`` when ``bearer`` comes last; None without ``bearer``.

    >>> bearer_subprotocol(["chat", "bearer", "eyJ.x.y"])
    ('eyJ.x.y', ['chat'])
    """
    lowered = [p.lower() for p in protocols]
    if SUBPROTOCOL not in lowered:
        return None, list(protocols)
    at = lowered.index(SUBPROTOCOL)
    token = protocols[at + 1] if at + 1 < len(protocols) else ""
    return token, protocols[:at] + protocols[at + 2 :]


def allowed_hosts() -> list[str]:
    hosts = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not hosts:  # as Django's get_host() and Channels do
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    return hosts


def origin_allowed(request: HttpRequest) -> bool:
    """Is the handshake's ``Origin`` this site (cross-site WebSocket hijacking)?

    Allowed: no ``Origin`` (not a browser: browsers always send one), the request's own
    origin, a host of ``ALLOWED_HOSTS`` (never ``*``: it would admit every site) or an origin
    of ``CSRF_TRUSTED_ORIGINS`` (``https://*.example.com`` also admits ``example.com``).
    Over TLS the origin must be ``https``.  Matching is Channels' ``OriginValidator``.
    Raises ``DisallowedHost`` for a ``Host`` outside ``ALLOWED_HOSTS``."""
    from channels.security.websocket import OriginValidator

    host = request.get_host()
    origin = request.META.get("HTTP_ORIGIN")
    if origin is None:
        return True
    if origin == f"{request.scheme}://{host}":
        return True
    parsed = urlparse(origin)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return False  # "null" (sandboxed frames, files) and other schemes
    if request.is_secure() and parsed.scheme != "https":
        return False
    patterns = [h for h in allowed_hosts() if h != "*"]
    patterns += [o.replace("://*.", "://.") for o in settings.CSRF_TRUSTED_ORIGINS]
    return bool(OriginValidator(None, patterns).valid_origin(parsed))


def session_user(request: HttpRequest) -> Any:
    """The user of Django's session cookie (AnonymousUser without one)."""
    from django.contrib.auth import get_user

    key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not key:
        return AnonymousUser()
    engine = import_module(settings.SESSION_ENGINE)
    request.session = engine.SessionStore(key)
    return get_user(request)


def fresh_connections(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` between two ``close_old_connections()``, as Django runs a request between
    ``request_started`` and ``request_finished``: the worker thread never keeps a connection
    past ``CONN_MAX_AGE`` (a pool slot; a broken connection after a database restart).

    Inside the function, not around the worker thread as Channels' ``database_sync_to_async``
    does: with asgiref 3.13 that intermittently left the function's connection open
    (``test_the_handshake_closes_obsolete_database_connections``)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    return wrapper


@functools.cache
def limiter() -> Any:
    """The rate-limit middleware whose ``check`` decides a connect like a request."""
    from hardening.ratelimit.middleware import RateLimitMiddleware

    return RateLimitMiddleware(lambda request: HttpResponse())


def handshake(
    scope: dict[str, Any], request_id: str, *, require_user: bool = True
) -> Admitted | Refused:
    """:class:`Admitted` or :class:`Refused` for the connection of ``scope``."""
    request = websocket_request(scope)
    attach(request, request_id)
    outcome = _decide(request, scope, require_user)
    if isinstance(outcome, Refused):
        return replace(outcome, request=request)
    return outcome


def _decide(request: HttpRequest, scope: dict[str, Any], require_user: bool) -> Admitted | Refused:
    try:
        if not origin_allowed(request):
            return Refused(FORBIDDEN, "origin")
    except DisallowedHost:
        return Refused(FORBIDDEN, "host")
    token, others = bearer_subprotocol(list(scope.get("subprotocols") or []))
    from_subprotocol = token is not None
    if token is None and conf.HARDENING_WEBSOCKET_QUERY_TOKEN:
        token = request.GET.get(QUERY_PARAMETER)
    if token is not None:
        request.META["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    error: str | None = None
    credential: Credential | None = None
    try:
        credential = authenticate(request) if token != "" else None
        if token == "":
            error = "malformed"
    except TokenRejected as exc:
        error = exc.reason
    if credential is not None:
        request.user = credential.user
        state(request).credential = credential
    else:
        request.user = AnonymousUser() if (error or token) else session_user(request)
    limited = _rate_limited(request)
    if limited is not None:
        return limited
    if error is not None:
        return Refused(UNAUTHENTICATED, error)
    if require_user and not request.user.is_authenticated:
        return Refused(UNAUTHENTICATED, "no_credentials")
    refused = refusal(request, exempt=is_exempt_path(request.path_info))
    if refused is not None:
        return Refused(FORBIDDEN, refused.code)
    admitted = Admitted(request, request.user, credential, others, from_subprotocol)
    if admitted.expires is not None and admitted.expires <= clock.now():
        # Within the verification leeway: valid for a request, but the connection would be
        # closed at once, and nothing is accepted only to be closed.
        return Refused(UNAUTHENTICATED, "expired")
    return admitted


def _rate_limited(request: HttpRequest) -> Refused | None:
    response, _headers = limiter().check(request)
    if response is None:
        return None
    if response.status_code == 429:
        return Refused(TOO_MANY, "rate_limited")
    return Refused(UNAVAILABLE, "rate_limit_unavailable")


@fresh_connections
def reauthenticate(admitted: Admitted, token: str) -> Credential | Refused:
    """The new credential of a re-auth message, or why the connection must close: a token
    that does not verify (4401), another user's token or one the MFA rule refuses (4403)."""
    request = websocket_request(dict(admitted.request.scope))  # type: ignore[attr-defined]
    attach(request, state(admitted.request).request_id)
    request.META.pop("HTTP_COOKIE", None)  # the new token alone
    request.META["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    try:
        credential = authenticate(request)
    except TokenRejected as exc:
        return Refused(UNAUTHENTICATED, exc.reason)
    if credential is None:
        return Refused(UNAUTHENTICATED, "malformed")
    if getattr(credential.user, "pk", None) != getattr(admitted.user, "pk", None):
        return Refused(FORBIDDEN, "other_user")
    request.user = credential.user
    state(request).credential = credential
    refused = refusal(request, exempt=is_exempt_path(request.path_info))
    if refused is not None:
        return Refused(FORBIDDEN, refused.code)
    return credential
