"""System checks for request timeouts (``E4xx`` / ``W4xx``)."""

from __future__ import annotations

import os
import shlex
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage
from django.core.exceptions import ImproperlyConfigured

from hardening.checks import problem, register, warning
from hardening.conf import conf
from hardening.timeout import config

__all__ = [
    "MIDDLEWARE_PATH",
    "check_database_timeout",
    "check_server_timeout",
    "check_timeout_settings",
    "gunicorn_timeout",
]

MIDDLEWARE_PATH = "hardening.timeout.middleware.TimeoutMiddleware"
#: gunicorn workers whose ``--timeout`` kills a request that runs too long.  For the
#: others (gthread, gevent, uvicorn...) it is only a worker heartbeat.
_SYNC_WORKERS = frozenset({"sync", "gunicorn.workers.sync.SyncWorker"})


@register
def check_timeout_settings(**kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    try:
        budget = config.request_timeout()
    except ImproperlyConfigured as exc:
        messages.append(
            problem("E401", str(exc)[:200], "Use seconds, e.g. REQUEST_TIMEOUT=30; 0 disables.")
        )
        budget = -1.0
    try:
        config.routes()
        config.exempt_prefixes()
        config.db_mode()
    except ImproperlyConfigured as exc:
        messages.append(
            problem(
                "E402",
                str(exc)[:200],
                "See docs/timeouts.md for the shape of the HARDENING_REQUEST_TIMEOUT_* settings.",
            )
        )
    if budget is None and conf.is_production:
        messages.append(
            warning(
                "W402",
                "Request timeouts are disabled (HARDENING_REQUEST_TIMEOUT is 0/None).",
                "A slow query or upstream then holds a worker until the server kills it.",
            )
        )
    if budget is not None and MIDDLEWARE_PATH not in list(settings.MIDDLEWARE):
        messages.append(
            warning(
                "W403",
                "TimeoutMiddleware is not in MIDDLEWARE: no request has a deadline.",
                f"Add {MIDDLEWARE_PATH!r} after SecurityMiddleware.",
            )
        )
    return messages


def gunicorn_timeout(cmd_args: str | None = None) -> float | None:
    """gunicorn's ``--timeout`` from ``GUNICORN_CMD_ARGS`` when it kills slow requests
    (sync workers, the default); None when unknown or not a request timeout."""
    raw = os.environ.get("GUNICORN_CMD_ARGS", "") if cmd_args is None else cmd_args
    try:
        args = shlex.split(raw)
    except ValueError:
        return None
    timeout: str | None = None
    worker = "sync"
    for index, arg in enumerate(args):
        following = args[index + 1] if index + 1 < len(args) else ""
        if arg in ("--timeout", "-t"):
            timeout = following
        elif arg.startswith("--timeout="):
            timeout = arg.split("=", 1)[1]
        elif arg.startswith("-t") and arg[2:].isdigit():
            timeout = arg[2:]
        elif arg in ("--worker-class", "-k"):
            worker = following
        elif arg.startswith("--worker-class="):
            worker = arg.split("=", 1)[1]
        elif arg in ("--threads",) and following.isdigit() and int(following) > 1:
            worker = "gthread"  # gunicorn switches sync to gthread when threads > 1
    if timeout is None or worker not in _SYNC_WORKERS:
        return None
    try:
        seconds = float(timeout)
    except ValueError:
        return None
    return seconds if seconds > 0 else None


def _largest_budget() -> float | None:
    try:
        budgets = [config.request_timeout(), *(s for _, s in config.routes())]
    except ImproperlyConfigured:
        return None
    finite = [b for b in budgets if b is not None]
    return max(finite) if finite else None


@register
def check_server_timeout(**kwargs: Any) -> list[CheckMessage]:
    budget = _largest_budget()
    if budget is None:
        return []
    known: list[tuple[str, float]] = []
    try:
        server = config.parse_seconds(conf.HARDENING_SERVER_TIMEOUT, "HARDENING_SERVER_TIMEOUT")
    except ImproperlyConfigured as exc:
        return [problem("E401", str(exc)[:200], "Use seconds, e.g. HARDENING_SERVER_TIMEOUT=35.")]
    if server is not None:
        known.append(("HARDENING_SERVER_TIMEOUT", server))
    gunicorn = gunicorn_timeout()
    if gunicorn is not None:
        known.append(("gunicorn --timeout", gunicorn))
    return [
        problem(
            "E403",
            f"The request timeout ({budget:g}s) is not below {source} ({seconds:g}s).",
            "Layer them: app budget < server timeout < proxy timeout (e.g. 30 / 35 / 40 s).",
        )
        for source, seconds in known
        if budget >= seconds
    ]


def _has_statement_timeout(database: dict[str, Any]) -> bool:
    options = database.get("OPTIONS") or {}
    return "statement_timeout" in str(options.get("options", ""))


@register
def check_database_timeout(**kwargs: Any) -> list[CheckMessage]:
    if not conf.is_production:
        return []
    per_request = MIDDLEWARE_PATH in list(settings.MIDDLEWARE)
    try:
        per_request = (
            per_request and config.db_mode() != "off" and config.request_timeout() is not None
        )
    except ImproperlyConfigured:
        per_request = False
    messages: list[CheckMessage] = []
    for alias, database in (getattr(settings, "DATABASES", {}) or {}).items():
        if not str(database.get("ENGINE", "")).endswith(("postgresql", "postgis")):
            continue
        if per_request or _has_statement_timeout(database):
            continue
        messages.append(
            warning(
                "W401",
                f"PostgreSQL database {alias!r} has no statement timeout.",
                "Enable TimeoutMiddleware (per-request statement_timeout) or set "
                "OPTIONS={'options': '-c statement_timeout=30000'}.",
            )
        )
    return messages
