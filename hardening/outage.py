"""What counts as an outage of a dependency (a timeout or a failed connection), as
opposed to an answer; shared by the circuit breaker and the callers that log cache errors."""

from __future__ import annotations

import logging

__all__ = ["BreakerOpen", "is_outage", "log_cache_failure"]

# InvalidResponse: something that is not Redis answers on the port.
_OUTAGE_NAMES = {
    "ConnectionError",
    "TimeoutError",
    "BusyLoadingError",
    "ConnectionInterrupted",
    "InvalidResponse",
}


class BreakerOpen(Exception):  # noqa: N818 - the name says what happened
    """The dependency is being skipped after an outage; apply the fallback policy."""


def is_outage(exc: BaseException) -> bool:
    """A timeout or connection failure (not a bad argument or a missing key)."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 5:
        if isinstance(current, (OSError, BreakerOpen)):
            return True
        names = {cls.__name__ for cls in type(current).__mro__}
        if names & _OUTAGE_NAMES:
            if "ConnectionInterrupted" in names and current.__cause__ is not None:
                current, seen = current.__cause__, seen + 1  # django-redis wraps the cause
                continue
            return True
        current, seen = current.__cause__, seen + 1
    return False


def log_cache_failure(log: logging.Logger, what: str, exc: BaseException) -> None:
    """Log a failed cache call of ``what`` from inside its ``except`` block.

    An outage is logged once by the cache's breaker, not here on every request (DEBUG);
    anything else is a bug worth its traceback (ERROR)."""
    if is_outage(exc):
        log.debug("%s unavailable", what, exc_info=True)
    else:
        log.error("%s unavailable", what, exc_info=True)
