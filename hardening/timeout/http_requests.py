"""``requests`` glue for :func:`hardening.timeout.http.budget` (requests is optional).

::

    from hardening.timeout.http_requests import deadline_session
    session = deadline_session()            # reuse it: it pools connections
    session.get(url, timeout=10)            # at most min(10, time left) per wait

or mount :class:`DeadlineAdapter` on your own session.  requests' read timeout bounds
each wait for data, not the whole body; the request's own deadline still answers 504.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Timeout

from hardening.timeout.deadline import current_deadline
from hardening.timeout.http import budget

__all__ = ["DeadlineAdapter", "deadline_session"]


def _clip(timeout: Any) -> Any:
    if current_deadline() is None:
        return timeout
    if isinstance(timeout, Timeout):
        connect, read = timeout.connect_timeout, timeout.read_timeout
        timeout = (
            connect if isinstance(connect, (int, float)) else None,
            read if isinstance(read, (int, float)) else None,
        )
    if isinstance(timeout, tuple):
        connect, read = timeout
        return (budget(connect), budget(read))
    return budget(timeout)


class DeadlineAdapter(HTTPAdapter):
    """An ``HTTPAdapter`` whose connect and read timeouts never exceed the time left."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        if len(args) > 1:  # send(request, stream, timeout, ...) positionally
            args = (args[0], _clip(args[1]), *args[2:])
        else:
            kwargs["timeout"] = _clip(kwargs.get("timeout"))
        return super().send(request, *args, **kwargs)


def deadline_session() -> requests.Session:
    """A ``requests.Session`` with :class:`DeadlineAdapter` on http:// and https://."""
    session = requests.Session()
    adapter = DeadlineAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
