"""Per-request context shared by the middleware (request ID), kept in ContextVars so it
follows the request across threads (sync_to_async) and tasks (ASGI)."""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("hardening_request_id", default=None)


def current_request_id() -> str | None:
    """The ID of the request being served, or None outside a request."""
    return request_id_var.get()
