"""Request timeouts that bound real work: a deadline per request, a 504 when it passes,
database statement timeouts no longer than the time left, and cancellation of the
in-flight query.  See ``docs/timeouts.md``.

Public API (this module; the rest of the package is internal)::

    from hardening.timeout import budget, check_deadline, remaining, request_timeout

The request's deadline is also ``hardening.request.state(request).deadline``.
``TimeoutMiddleware`` lives in :mod:`hardening.timeout.middleware` (not imported here, so
importing this package does not load the middleware's dependencies).  httpx and requests
are optional: their glue needs the library it wraps.
"""

from __future__ import annotations

from hardening.timeout.deadline import (
    DeadlineExceeded,
    DeadlineInterrupt,
    check_deadline,
    deadline_scope,
    remaining,
    request_timeout,
)
from hardening.timeout.http import (
    AsyncDeadlineTransport,
    DeadlineAdapter,
    DeadlineTransport,
    budget,
    deadline_session,
    httpx_deadline_hook,
)

__all__ = [
    "AsyncDeadlineTransport",
    "DeadlineAdapter",
    "DeadlineExceeded",
    "DeadlineInterrupt",
    "DeadlineTransport",
    "budget",
    "check_deadline",
    "deadline_scope",
    "deadline_session",
    "httpx_deadline_hook",
    "remaining",
    "request_timeout",
]
