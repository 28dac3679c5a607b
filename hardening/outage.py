"""What counts as an outage of a dependency (a timeout or a failed connection), as
opposed to an answer; shared by the circuit breaker and the callers that log cache errors.
And :data:`database_outage`, which logs a database outage once instead of per request."""

from __future__ import annotations

import logging
import threading
import time

# InvalidResponse: something that is not Redis answers on the port.
_OUTAGE_NAMES = {
    "ConnectionError",
    "TimeoutError",
    "BusyLoadingError",
    "ConnectionInterrupted",
    "InvalidResponse",
    # Redis Cluster: a master down (its slots uncovered) or the cluster down.
    "ClusterDownError",
    "SlotNotCoveredError",
    "MasterDownError",
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


class DatabaseOutage:
    """Reports a database outage once: a WARNING (with the first request's ID) when the
    first 503 ``database_unavailable`` is answered, and one when a connection is made
    again (``connection_created``) with the number of requests answered 503 meanwhile.
    Each 503 is counted in ``hardening_database_unavailable_total`` by its caller."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: float | None = None
        self._answered = 0

    def reset(self) -> None:
        """Forget an outage without logging its end (tests)."""
        with self._lock:
            self._since, self._answered = None, 0

    def unavailable(self, request_id: str | None) -> None:
        with self._lock:
            self._answered += 1
            if self._since is not None:
                return
            self._since, self._answered = time.monotonic(), 1
        _db_logger.warning(
            "database unavailable: answering 503 database_unavailable until it is reachable",
            extra={"request_id": request_id},
        )

    def reachable(self, **kwargs: object) -> None:
        """``connection_created`` receiver: the outage, if any, is over."""
        with self._lock:
            since = self._since
            if since is None:  # the common case: no outage
                return
            down, answered = time.monotonic() - since, self._answered
            self._since, self._answered = None, 0
        _db_logger.warning(
            "database reachable again after %.1f s: %d requests answered 503",
            down,
            answered,
            extra={"answered": answered},
        )


_db_logger = logging.getLogger("hardening.database")
database_outage = DatabaseOutage()


def connect() -> None:
    from django.db.backends.signals import connection_created

    connection_created.connect(database_outage.reachable, dispatch_uid="hardening-db-outage")
