"""What django-hardening knows about the request being served: ``request.hardening``.

The first hardening middleware (:class:`~hardening.middleware.RequestMiddleware`) attaches one
:class:`RequestState` to every request, with the request ID and the client address resolved
once; later middleware fill in what they learn (the deadline, the credential a bearer token
or API key proved, a per-account lock).  Code that needs any of it calls :func:`state`, which
also works where no hardening middleware ran (a test client without the middleware, a view
called directly)::

    from hardening.request import state

    def view(request):
        caller = state(request).credential  # None for a session or an anonymous request
        ...

This module also holds the base class of every hardening middleware, so that every room's
middleware starts from the same sync/async pattern.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from hardening.clientip import client_ip
from hardening.context import current_request_id
from hardening.observability.correlation import outgoing_headers

if TYPE_CHECKING:
    from hardening.headers.csp import LazyNonce
    from hardening.timeout.deadline import Deadline

# Public: the rest of this module (the middleware base class, ``attach``) is internal.
__all__ = ["Credential", "RequestState", "current_request_id", "outgoing_headers", "state"]

#: The attribute on ``HttpRequest``; read it through :func:`state`.
ATTRIBUTE = "hardening"


@dataclass(frozen=True, eq=False)
class Credential:
    """Who a bearer token or an API key says the caller is.

    ``kind`` is ``"jwt"`` (the project's own tokens), ``"clerk"``, ``"oidc"`` (or another
    issuer's label) or ``"api_key"``; ``claims`` are the verified claims (an API key's are
    its owner and scopes); ``user`` the Django user it stands for.
    """

    kind: str
    user: Any
    claims: Mapping[str, Any] = field(default_factory=dict)
    scopes: frozenset[str] = frozenset()


@dataclass(eq=False)
class RequestState:
    """The typed per-request object behind ``request.hardening``."""

    request_id: str
    client_ip: str
    #: The request's deadline, set by ``TimeoutMiddleware`` (None on a path without one;
    #: inactive after ``@request_timeout(None)``).  Code without the request reads it
    #: through ``hardening.timeout.remaining()`` / ``check_deadline()``.
    deadline: Deadline | None = None
    #: The credential a bearer token or API key proved, when it authenticates the request
    #: (on ``HARDENING_API_PATHS``, or through a DRF authentication class); None: none was
    #: sent, it failed, or it is not how this request authenticates.
    credential: Credential | None = None
    #: Why a sent credential was refused (the 401 is raised where authentication is needed).
    credential_error: Exception | None = None
    #: A verified bearer token's (or API key's) credential on any path.  Outside the API
    #: paths it is not the request's user (the admin and session views need a session
    #: login), but rate limits, logs and audit still key on its user (:attr:`bearer_user`).
    bearer: Credential | None = None
    #: The revocation keys of the request's own access token, while the rate limiter's
    #: round trip is to read them (``hardening.jwt.auth`` settles them before the view).
    revocation_pending: list[str] | None = None
    #: Seconds a locked account must wait (set by the lockout backend for the 429).
    lockout_wait: float | None = None
    #: ``django.contrib.auth.logout()`` ran during this request: the headers middleware
    #: answers with ``Clear-Site-Data``.
    logged_out: bool = False
    #: The CSP nonce of this request, made on first use (``str()`` gives it; templates get
    #: it as ``{{ csp_nonce }}``); set by the headers middleware, None without it.
    csp_nonce: LazyNonce | None = None

    @property
    def auth_kind(self) -> str | None:
        """How a credential authenticated the request: ``"jwt"``, ``"clerk"``, ``"oidc"``
        (an issuer's preset) or ``"api_key"``; None for a session or an anonymous request."""
        return self.credential.kind if self.credential is not None else None

    @property
    def bearer_user(self) -> Any:
        """The user of a verified bearer token, on any path (None: no valid token)."""
        return self.bearer.user if self.bearer is not None else None


def state(request: Any) -> RequestState:
    """The request's :class:`RequestState`, attached on first use.

    Accepts a Django ``HttpRequest`` or a DRF ``Request``.
    """
    request = getattr(request, "_request", request)  # DRF's Request wraps HttpRequest
    found = request.__dict__.get(ATTRIBUTE)
    if found is None:
        found = RequestState(
            request_id=current_request_id() or uuid.uuid4().hex,
            client_ip=client_ip(request),
        )
        request.__dict__[ATTRIBUTE] = found
    assert isinstance(found, RequestState)  # type narrow
    return found


def attach(request: HttpRequest, request_id: str) -> RequestState:
    """Start the request's state (the first hardening middleware does, once)."""
    found = RequestState(request_id=request_id, client_ip=client_ip(request))
    request.__dict__[ATTRIBUTE] = found
    return found


GetResponse: TypeAlias = (
    Callable[[HttpRequest], HttpResponseBase] | Callable[[HttpRequest], Awaitable[HttpResponseBase]]
)


class HardeningMiddleware:
    """The base of every django-hardening middleware: sync and async capable.

    Adam Johnson's pattern (django-cors-headers, django-htmx): a plain class that marks
    itself as a coroutine function when the next handler is async, and switches to
    ``__acall__`` inside ``__call__`` instead of swapping dunder methods.  Subclasses
    implement ``__call__`` (which must start with ``if self.async_mode: return
    self.__acall__(request)``) and ``__acall__``.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        # Typed loosely: which of the two the handler is depends on ``async_mode``.
        self.get_response: Callable[[HttpRequest], Any] = get_response
        self.async_mode = iscoroutinefunction(self.get_response)
        if self.async_mode:
            # Mark the instance as async-capable; the switch happens inside __call__.
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        raise NotImplementedError  # pragma: no cover - every subclass implements it
