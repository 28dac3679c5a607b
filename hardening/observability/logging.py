"""JSON logs with the request ID and user id, and without secrets.

One dict configures everything (``LOGGING = logging_config()`` in settings)::

    from hardening.observability.logging import logging_config
    LOGGING = logging_config(level=env.str("LOG_LEVEL", default="INFO"))

Each record is one JSON object on one line: ``time``, ``level``, ``logger``,
``message``, ``request_id``, ``user_id`` and, for audit events, ``event`` and the
event's fields.  :class:`RequestContextFilter` adds the request ID (from
:mod:`hardening.context`) and the user id (set by
:class:`~hardening.middleware.RequestMiddleware`); :class:`JsonFormatter`
scrubs secrets (see :mod:`hardening.observability.scrub`) from the message, the extra
fields and the traceback.
"""

from __future__ import annotations

import json
import logging
import threading
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject, empty

from hardening.context import current_request_id
from hardening.observability.correlation import trace_ids
from hardening.observability.scrub import is_sensitive_key, scrub, scrub_text

#: An explicitly bound user id (a string) for the request being served, or None.
user_id_var: ContextVar[str | None] = ContextVar("hardening_user_id", default=None)
#: The request being served (set by RequestMiddleware), to find its user lazily.
request_var: ContextVar[HttpRequest | None] = ContextVar("hardening_request", default=None)


def current_user_id() -> str | None:
    """The id of the authenticated user of the current request, without a database query.

    Only a user that authentication already resolved is used (Django's lazy
    ``request.user`` is not evaluated here: a log call must never hit the database).
    """
    bound = user_id_var.get()
    if bound is not None:
        return bound
    request = request_var.get()
    if request is None:
        return None
    user: Any = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        wrapped = user._wrapped
        user = None if wrapped is empty else wrapped
    if user is None:
        user = request.__dict__.get("_cached_user")
    if not getattr(user, "is_authenticated", False):
        user = getattr(request.__dict__.get("hardening"), "bearer_user", None)  # outside the API
    if user is not None and getattr(user, "is_authenticated", False):
        return str(user.pk)
    return None


# Attributes every LogRecord has; anything else was passed through ``extra=``.
_RESERVED = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "request_id", "user_id", "taskName"}
)
# Django passes the request object and a socket to its loggers; never serialise those.
_DROPPED = frozenset({"request", "server_time", "socket"})


# runserver writes its access line (logger ``django.server``) after the response, outside the
# request's context, from the thread that served it: RequestMiddleware notes the ID here.
_served = threading.local()


def note_served(request_id: str) -> None:
    """Remember the request ID this thread just answered (for runserver's access line)."""
    _served.request_id = request_id


class RequestContextFilter(logging.Filter):
    """Adds ``request_id`` and ``user_id`` to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            # django.request logs 4xx/5xx after the middleware has left the request, but
            # passes the request itself: fall back to the ID stored on it.
            request = getattr(record, "request", None)
            request_id = current_request_id() or getattr(
                getattr(request, "hardening", None), "request_id", None
            )
            if request_id is None and record.name == "django.server":
                request_id = getattr(_served, "request_id", None)
                _served.request_id = None
            record.request_id = request_id
        if getattr(record, "user_id", None) is None:
            record.user_id = current_user_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, secrets removed."""

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record
            message = str(record.msg)
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub_text(message),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
            "user_id": getattr(record, "user_id", None) or current_user_id(),
            **trace_ids(),  # with OpenTelemetry: trace_id, span_id of the current span
        }
        for key, value in vars(record).items():
            if key in _RESERVED or key in _DROPPED or key.startswith("_"):
                continue
            data[key] = "[Filtered]" if is_sensitive_key(key) else scrub(value)
        if record.exc_info:
            data["exc_info"] = scrub_text(self.formatException(record.exc_info))
        elif record.exc_text:
            data["exc_info"] = scrub_text(record.exc_text)
        if record.stack_info:
            data["stack_info"] = scrub_text(self.formatStack(record.stack_info))
        return json.dumps(data, default=_default, ensure_ascii=False, sort_keys=False)


def _default(value: Any) -> str:
    return scrub_text(str(value))


def logging_config(
    level: str = "INFO",
    *,
    audit_level: str = "INFO",
    django_level: str = "INFO",
) -> dict[str, Any]:
    """A ``LOGGING`` dict: every logger writes JSON lines to stderr.

    ``hardening.audit`` (security events) is its own logger so it can be routed
    elsewhere; it does not propagate, so each event is written once.
    """
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_context": {"()": "hardening.observability.logging.RequestContextFilter"},
        },
        "formatters": {
            "json": {"()": "hardening.observability.logging.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["request_context"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django": {"handlers": ["console"], "level": django_level, "propagate": False},
            # 4xx/5xx lines already carry the request; keep them but through our format.
            "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
            "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "hardening.audit": {
                "handlers": ["console"],
                "level": audit_level,
                "propagate": False,
            },
            "hardening": {"handlers": ["console"], "level": level, "propagate": False},
        },
    }
