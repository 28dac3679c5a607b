"""One call to set up sentry-sdk without leaking personal data or credentials.

    from hardening.observability.sentry import init_sentry
    init_sentry()  # at the end of settings.py; does nothing when SENTRY_DSN is unset

* DSN, environment and release come from the arguments, else ``SENTRY_DSN``,
  ``SENTRY_ENVIRONMENT`` (else ``DJANGO_ENV``) and ``SENTRY_RELEASE``.  Settings are
  not read, so it is safe to call at the end of ``settings.py``.
* The Django integration is on; no personal data is sent by default: ``send_default_pii``
  is left unset, which sentry-sdk treats as ``False`` (passing it at all is deprecated
  since sentry-sdk 2.75 in favour of ``data_collection``).
* sentry-sdk's own :class:`~sentry_sdk.scrubber.EventScrubber` runs with our extended
  denylist, recursively; then :func:`before_send` scrubs what key-based scrubbing cannot
  see: JWTs, bearer credentials and ``password=...`` pairs inside messages, exception
  values, breadcrumbs and extra data, and drops Authorization headers and cookies.
* Each event is tagged with the request ID.
* A database that cannot be reached is no event: it is answered 503, counted and logged
  once per outage (:mod:`hardening.errors`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from hardening.context import current_request_id
from hardening.observability.correlation import link_sentry_event
from hardening.observability.scrub import FILTERED, SENSITIVE_TERMS, scrub, scrub_text

_HEADERS_DROPPED = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})


def _scrub_request(request: dict[str, Any]) -> None:
    headers = request.get("headers")
    if isinstance(headers, Mapping):
        request["headers"] = {
            k: (FILTERED if str(k).lower() in _HEADERS_DROPPED else v) for k, v in headers.items()
        }
    if "cookies" in request:
        request["cookies"] = FILTERED if request["cookies"] else request["cookies"]
    for key in ("data", "query_string", "url", "env"):
        if key in request:
            request[key] = scrub(request[key])
    request["headers"] = scrub(request.get("headers", {}))


def scrub_event(event: dict[str, Any]) -> dict[str, Any]:
    """Remove credentials from a Sentry event in place, and return it."""
    request = event.get("request")
    if isinstance(request, dict):
        _scrub_request(request)
    for key in ("message", "logentry", "extra", "contexts", "tags", "user", "fingerprint"):
        if key in event:
            event[key] = scrub(event[key])
    for exc in (event.get("exception") or {}).get("values") or []:
        if isinstance(exc.get("value"), str):
            exc["value"] = scrub_text(exc["value"])
        for frame in (exc.get("stacktrace") or {}).get("frames") or []:
            if "vars" in frame:
                frame["vars"] = scrub(frame["vars"])
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict) and "values" in breadcrumbs:
        breadcrumbs["values"] = scrub(breadcrumbs["values"])
    elif isinstance(breadcrumbs, list):
        event["breadcrumbs"] = scrub(breadcrumbs)
    request_id = current_request_id()
    if request_id:
        tags = event.setdefault("tags", {})
        if isinstance(tags, dict):
            tags["request_id"] = request_id
    return link_sentry_event(event)  # with OpenTelemetry: the event links to the trace


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
    """sentry-sdk ``before_send`` hook: :func:`scrub_event`; no event for a database that
    cannot be reached (answered 503 and logged once per outage, see hardening.errors)."""
    from hardening.errors import database_unavailable  # not at import: settings.py calls us

    exc_info = hint.get("exc_info")
    if exc_info and database_unavailable(exc_info[1]):
        return None
    return scrub_event(event)


def _denylist() -> list[str]:
    from sentry_sdk.scrubber import DEFAULT_DENYLIST

    extra = [
        "access",
        "refresh",
        "jwt",
        "otp",
        "totp",
        "code",
        "recovery_codes",
        "mfa_token",
        "private_key",
        "signing_key",
        "dsn",
    ]
    return sorted({*DEFAULT_DENYLIST, *extra, *SENSITIVE_TERMS})


def init_sentry(
    dsn: str | None = None,
    *,
    environment: str | None = None,
    release: str | None = None,
    traces_sample_rate: float | None = None,
    before_send_hook: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any] | None]
    | None = None,
    **options: Any,
) -> bool:
    """Initialise sentry-sdk; return False (and do nothing) when no DSN is configured.

    ``before_send_hook`` runs after our scrubber.  Extra ``options`` go to
    :func:`sentry_sdk.init` unchanged (e.g. ``transport`` in tests).
    """
    dsn = dsn if dsn is not None else os.environ.get("SENTRY_DSN", "")
    if not dsn and "transport" not in options:
        return False
    import sentry_sdk

    if not supported_sdk(sentry_sdk.VERSION):
        raise ImproperlyConfigured(
            f"sentry-sdk {sentry_sdk.VERSION} is not supported: django-hardening's scrubbing "
            "rests on sentry-sdk 2.x (send_default_pii, sentry_sdk.scrubber). Install "
            "'django-hardening[sentry]' (sentry-sdk>=2.20,<3)."
        )
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.scrubber import EventScrubber

    if environment is None:
        environment = os.environ.get("SENTRY_ENVIRONMENT") or _django_environment()
    if release is None:
        release = os.environ.get("SENTRY_RELEASE") or None

    def _before_send(event: Any, hint: Any) -> Any:
        event = before_send(event, hint)
        if event is None or before_send_hook is None:
            return event
        return before_send_hook(event, hint)

    options.setdefault("max_request_body_size", "never")
    options.setdefault("include_local_variables", False)
    sentry_sdk.init(
        dsn=dsn or None,
        environment=environment,
        release=release,
        traces_sample_rate=traces_sample_rate,
        integrations=[DjangoIntegration(transaction_style="url")],
        event_scrubber=EventScrubber(denylist=_denylist(), recursive=True),
        before_send=_before_send,
        before_breadcrumb=lambda crumb, hint: scrub(crumb),
        **options,
    )
    return True


def supported_sdk(version: str) -> bool:
    """True for the sentry-sdk releases hardening works with (2.x; 3 removed
    ``send_default_pii`` and ``sentry_sdk.scrubber``)."""
    major = version.split(".", 1)[0]
    return major.isdigit() and int(major) == 2


def _django_environment() -> str:
    # Never read Django settings here: init_sentry() is called from settings.py.  The rule
    # is hardening.env's: unset or empty DJANGO_ENV is production.
    from hardening.conf.parse import environment_name

    return environment_name(os.environ.get("DJANGO_ENV"))
