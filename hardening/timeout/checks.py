"""System checks for request timeouts (``E4xx`` / ``W4xx``).  A removed setting is
``hardening.E032`` (``hardening.deploy.settings``)."""

from __future__ import annotations

import os
import shlex
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage

from hardening.checks import problem, register, warning
from hardening.conf import conf as core
from hardening.conf.core import middleware as installed_middleware
from hardening.timeout.conf import conf

MIDDLEWARE_PATH = "hardening.middleware.TimeoutMiddleware"
#: gunicorn workers whose ``--timeout`` kills a request that runs too long.  For the
#: others (gthread, gevent, uvicorn...) it is only a worker heartbeat.
_SYNC_WORKERS = frozenset({"sync", "gunicorn.workers.sync.SyncWorker"})

#: E401: a number of seconds; E402: the shape of the other settings.
_SECONDS = frozenset({"HARDENING_REQUEST_TIMEOUT", "HARDENING_SERVER_TIMEOUT"})
_HINTS = {
    "HARDENING_REQUEST_TIMEOUT": "Use seconds, e.g. 30 (example: REQUEST_TIMEOUT=30); 0 disables.",
    "HARDENING_SERVER_TIMEOUT": "Use seconds, e.g. HARDENING_SERVER_TIMEOUT = 35.",
    "HARDENING_REQUEST_TIMEOUT_ROUTES": "Use {path prefix: seconds or None}, e.g. {'/up/': 300}.",
    "HARDENING_REQUEST_TIMEOUT_MODE": "Use 'auto', 'signal', 'thread' or 'cooperative'.",
    "HARDENING_REQUEST_TIMEOUT_DB": "Use 'auto', 'local' (pgbouncer transaction pooling) or 'off'.",
}


def _unusable() -> dict[str, str]:
    """``{setting: why}`` for each configured value that does not parse (its default is
    used meanwhile, never an error in a request)."""
    return dict(conf.problems())


@register
def check_timeout_settings(**kwargs: Any) -> list[CheckMessage]:
    messages = [
        problem(
            "E401" if name in _SECONDS else "E402",
            f"{name} is unusable ({why[:120]}); its default is used.",
            _HINTS[name],
        )
        for name, why in _unusable().items()
    ]
    budget = conf.HARDENING_REQUEST_TIMEOUT
    if budget is None and core.is_production:
        messages.append(
            warning(
                "W402",
                "Request timeouts are disabled (HARDENING_REQUEST_TIMEOUT is 0/None).",
                "A slow query or upstream then holds a worker until the server kills it.",
            )
        )
    if budget is not None and MIDDLEWARE_PATH not in installed_middleware():
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
    budgets = [
        conf.HARDENING_REQUEST_TIMEOUT,
        *(s for _, s in conf.HARDENING_REQUEST_TIMEOUT_ROUTES),
    ]
    finite = [b for b in budgets if b is not None]
    return max(finite) if finite else None


@register
def check_server_timeout(**kwargs: Any) -> list[CheckMessage]:
    if _unusable().keys() & {"HARDENING_REQUEST_TIMEOUT", "HARDENING_REQUEST_TIMEOUT_ROUTES"}:
        return []  # E401 / E402: the budgets meant are unknown
    budget = _largest_budget()
    if budget is None:
        return []
    known: list[tuple[str, float]] = []
    server = conf.HARDENING_SERVER_TIMEOUT
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
    if not core.is_production:
        return []
    per_request = (
        MIDDLEWARE_PATH in installed_middleware()
        and conf.HARDENING_REQUEST_TIMEOUT_DB != "off"
        and conf.HARDENING_REQUEST_TIMEOUT is not None
    )
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
