"""Checks for the wiring a user copies into a project: the ways a quickstart goes wrong.

* ``E120``: the JWT middleware is on but DRF does not try the bearer class first (bearer
  POSTs then fail DRF's CSRF check; a bad bearer token on an ``AllowAny`` view is anonymous).
* ``E030``: no JSON log formatter is configured (a 500 under gunicorn prints nothing useful).
* ``E031``: several server workers (``WEB_CONCURRENCY``, ``GUNICORN_CMD_ARGS`` or the gunicorn /
  uvicorn command line, e.g. ``gunicorn mysite.wsgi --workers 4``) without
  ``PROMETHEUS_MULTIPROC_DIR``: ``/metrics`` answers a different worker's counters each scrape.
* ``E220``: ``/account/mfa/`` is mounted but ``LOGIN_URL`` does not resolve (anonymous users
  are sent to a 404).
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils.module_loading import import_string

from hardening.checks import problem, register
from hardening.conf.core import middleware as installed_middleware

JWT_MIDDLEWARE = "hardening.middleware.CredentialMiddleware"
BEARER = "hardening.authentication.BearerTokenAuthentication"
DRF_DEFAULT_AUTH = [
    "rest_framework.authentication.SessionAuthentication",
    "rest_framework.authentication.BasicAuthentication",
]


def _is_bearer(path: Any) -> bool:
    try:
        cls = import_string(path) if isinstance(path, str) else path
        bearer = import_string(BEARER)
    except ImportError:
        return False
    return isinstance(cls, type) and issubclass(cls, bearer)


@register
def check_drf_bearer_first(**kwargs: Any) -> list[CheckMessage]:
    if JWT_MIDDLEWARE not in installed_middleware():
        return []
    drf = getattr(settings, "REST_FRAMEWORK", None) or {}
    classes = list(drf.get("DEFAULT_AUTHENTICATION_CLASSES", DRF_DEFAULT_AUTH))
    if classes and _is_bearer(classes[0]):
        return []
    first = classes[0] if classes else "nothing"
    return [
        problem(
            "E120",
            f"CredentialMiddleware is on but DRF's first authentication class is {first}.",
            "Put hardening.authentication.BearerTokenAuthentication first in "
            "REST_FRAMEWORK['DEFAULT_AUTHENTICATION_CLASSES'] (hardening.drf."
            "rest_framework_settings() does): otherwise bearer POSTs get a CSRF 403 and a bad "
            "token on an AllowAny view is anonymous instead of 401.",
        )
    ]


def _json_formatters(formatters: dict[str, Any]) -> set[str]:
    names = set()
    for name, spec in formatters.items():
        target = str((spec or {}).get("()", "") or (spec or {}).get("class", ""))
        if "json" in target.lower():
            names.add(name)
    return names


@register
def check_json_logging(**kwargs: Any) -> list[CheckMessage]:
    config = getattr(settings, "LOGGING", None) or {}
    json_names = _json_formatters(dict(config.get("formatters", {}) or {}))
    handlers = dict(config.get("handlers", {}) or {})
    if any((spec or {}).get("formatter") in json_names for spec in handlers.values()):
        return []
    return [
        problem(
            "E030",
            "No handler in LOGGING writes JSON lines.",
            "LOGGING = hardening.env.logging_config() (JSON lines with the "
            "request ID, secrets removed); without it a 500 under gunicorn prints nothing.",
        )
    ]


def _option_values(words: list[str], names: str) -> list[int]:
    """The integer values of the options ``names`` (a regex of option names) in ``words``:
    ``--workers 4``, ``--workers=4``, ``-w 4`` and ``-w4``."""
    values = []
    for index, word in enumerate(words):
        match = re.fullmatch(rf"(?:{names})(?:=?(\d+))?", word)
        if match is None:
            continue
        value = match.group(1) or (words[index + 1] if index + 1 < len(words) else "")
        if value.isdigit():
            values.append(int(value))
    return values


def _server_command_line(argv: list[str]) -> list[int]:
    """Workers asked for on a gunicorn / uvicorn command line (``sys.argv`` inside the
    server, where hardening.wsgi / hardening.asgi run the checks)."""
    path = Path(argv[0]) if argv else Path()
    program = path.parent.name if path.name == "__main__.py" else path.name  # python -m
    if program.startswith("gunicorn"):
        return _option_values(argv[1:], r"--workers|-w")
    if program.startswith("uvicorn"):
        return _option_values(argv[1:], r"--workers")
    return []


def server_workers(environ: dict[str, str] | None = None, argv: list[str] | None = None) -> int:
    """Worker processes gunicorn / uvicorn are asked for (1 when unknown): ``WEB_CONCURRENCY``,
    ``GUNICORN_CMD_ARGS`` and the server's own command line (``sys.argv``)."""
    env = os.environ if environ is None else environ
    counts = [1]
    if env.get("WEB_CONCURRENCY", "").strip().isdigit():
        counts.append(int(env["WEB_CONCURRENCY"]))
    try:
        words = shlex.split(env.get("GUNICORN_CMD_ARGS", ""))
    except ValueError:
        words = []
    counts += _option_values(words, r"--workers|-w")
    counts += _server_command_line(sys.argv if argv is None else argv)
    return max(counts)


@register
def check_metrics_multiprocess(**kwargs: Any) -> list[CheckMessage]:
    if "django_prometheus" not in settings.INSTALLED_APPS:
        return []
    workers = server_workers()
    if workers <= 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return []
    return [
        problem(
            "E031",
            f"{workers} server workers but PROMETHEUS_MULTIPROC_DIR is unset: each scrape of "
            "/metrics answers one worker's counters.",
            "export PROMETHEUS_MULTIPROC_DIR=/run/prometheus (an empty directory) and run "
            "gunicorn with -c python:hardening.gunicorn.",
        )
    ]


@register
def check_login_url(**kwargs: Any) -> list[CheckMessage]:
    try:
        reverse("hardening:mfa-page")
    except NoReverseMatch:
        return []
    login_url = str(settings.LOGIN_URL)
    try:
        target = resolve_url(login_url)
    except NoReverseMatch:
        target = login_url
    parts = urlsplit(str(target))
    if parts.scheme or parts.netloc:  # an external login page: cannot be checked here
        return []
    try:
        resolve(parts.path)
    except Resolver404:
        return [
            problem(
                "E220",
                f"/account/mfa/ is mounted but LOGIN_URL {login_url!r} does not resolve: "
                "anonymous users are sent to a 404.",
                'Set LOGIN_URL = "hardening:login" (the session login with the MFA step that '
                'include("hardening.urls") mounts) or point it at your own login page.',
            )
        ]
    return []
