"""Request timeouts that bound real work: a deadline per request, a 504 when it passes,
database statement timeouts no longer than the time left, and cancellation of the
in-flight query.  See ``docs/timeouts.md``.

Public API::

    from hardening.timeout import check_deadline, remaining, request_timeout

``TimeoutMiddleware`` lives in :mod:`hardening.timeout.middleware` (not imported here, so
importing this package does not load the middleware's dependencies).
"""

from __future__ import annotations

from hardening.timeout.deadline import (
    Deadline,
    DeadlineExceeded,
    DeadlineInterrupt,
    check_deadline,
    current_deadline,
    deadline_scope,
    remaining,
    request_timeout,
)

__all__ = [
    "Deadline",
    "DeadlineExceeded",
    "DeadlineInterrupt",
    "check_deadline",
    "current_deadline",
    "deadline_scope",
    "remaining",
    "request_timeout",
]
