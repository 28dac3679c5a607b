"""Outgoing HTTP bounded by the current request's deadline.

Internal: import from :mod:`hardening.timeout`.  A call made while serving a request should
never wait longer than the request may.  :func:`budget` turns "my usual timeout" into "my
usual timeout or the time left, whichever is shorter", and raises
:class:`~hardening.timeout.DeadlineExceeded` when nothing is left.  Ready-made glue (both
libraries are optional)::

    # httpx: a transport (sync / async), or an event hook on your own client
    import httpx
    from hardening.timeout import DeadlineTransport, AsyncDeadlineTransport
    client = httpx.Client(transport=DeadlineTransport(), timeout=10)

    # requests: a session (or mount DeadlineAdapter on your own)
    from hardening.timeout import deadline_session
    session = deadline_session()
    session.get(url, timeout=10)

Outside a request (no deadline) the caller's timeout is used unchanged.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from hardening.timeout.deadline import DeadlineExceeded, current_deadline

if TYPE_CHECKING:
    import httpx
    import requests

try:
    import httpx as _httpx
except ImportError:  # pragma: no cover - httpx is optional
    _httpx = None  # type: ignore[assignment]

try:
    import requests as _requests
    from requests.adapters import HTTPAdapter as _HTTPAdapter
    from urllib3.util import Timeout as _Timeout
except ImportError:  # pragma: no cover - requests is optional
    _requests = None  # type: ignore[assignment]
    _HTTPAdapter = object  # type: ignore[assignment,misc]
    _Timeout = None  # type: ignore[assignment,misc]


def budget(timeout: float | None) -> float | None:
    """``min(timeout, time left)``; ``timeout`` when no deadline applies (``None``: no
    limit of its own).  Raises ``DeadlineExceeded`` once the deadline has passed."""
    deadline = current_deadline()
    if deadline is None:
        return timeout
    # At most threading.TIMEOUT_MAX: a socket timeout beyond it raises OverflowError (the
    # settings accept a budget of centuries).
    left = min(deadline.remaining(), threading.TIMEOUT_MAX)
    if left <= 0:
        deadline.trip("deadline")
        raise DeadlineExceeded("deadline")
    return left if timeout is None else min(timeout, left)


# -- httpx ------------------------------------------------------------------------------


def _clip_httpx(request: httpx.Request) -> None:
    if current_deadline() is None:
        return
    timeouts: dict[str, Any] = dict(request.extensions.get("timeout") or {})
    for phase in ("connect", "read", "write", "pool"):
        timeouts[phase] = budget(timeouts.get(phase))
    request.extensions["timeout"] = timeouts


def httpx_deadline_hook(request: httpx.Request) -> None:
    """``httpx.Client(event_hooks={"request": [httpx_deadline_hook]})``."""
    _clip_httpx(request)


class DeadlineTransport(_httpx.BaseTransport if _httpx else object):  # type: ignore[misc]
    """Wraps a transport (default ``httpx.HTTPTransport()``); every phase's timeout is
    clipped to the time left before the request's deadline."""

    def __init__(self, transport: httpx.BaseTransport | None = None, **kwargs: Any) -> None:
        self._transport = transport or _httpx.HTTPTransport(**kwargs)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _clip_httpx(request)
        return self._transport.handle_request(request)

    def close(self) -> None:
        self._transport.close()


class AsyncDeadlineTransport(_httpx.AsyncBaseTransport if _httpx else object):  # type: ignore[misc]
    """The async twin of :class:`DeadlineTransport` (default ``AsyncHTTPTransport()``)."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any) -> None:
        self._transport = transport or _httpx.AsyncHTTPTransport(**kwargs)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        _clip_httpx(request)
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        await self._transport.aclose()


# -- requests ---------------------------------------------------------------------------


def _clip_requests(timeout: Any) -> Any:
    if current_deadline() is None:
        return timeout
    if isinstance(timeout, _Timeout):
        connect, read = timeout.connect_timeout, timeout.read_timeout
        timeout = (
            connect if isinstance(connect, int | float) else None,
            read if isinstance(read, int | float) else None,
        )
    if isinstance(timeout, tuple):
        connect, read = timeout
        return (budget(connect), budget(read))
    return budget(timeout)


class DeadlineAdapter(_HTTPAdapter):
    """A requests ``HTTPAdapter`` whose connect and read timeouts never exceed the time
    left.  requests' read timeout bounds each wait for data, not the whole body; the
    request's own deadline still answers 504."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if len(args) > 1:  # send(request, stream, timeout, ...) positionally
            args = (args[0], _clip_requests(args[1]), *args[2:])
        else:
            kwargs["timeout"] = _clip_requests(kwargs.get("timeout"))
        return super().send(request, *args, **kwargs)


def deadline_session() -> requests.Session:
    """A ``requests.Session`` with :class:`DeadlineAdapter` on http:// and https://
    (reuse it: it pools connections)."""
    session = _requests.Session()
    adapter = DeadlineAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
