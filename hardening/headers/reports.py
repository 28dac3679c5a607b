"""``POST /csp-report``: Content-Security-Policy violation reports, bounded.

Browsers send reports to the ``report-uri`` of a policy (``Content-Type:
application/csp-report``, one ``{"csp-report": {...}}``) or to the endpoint ``report-to``
names through the ``Reporting-Endpoints`` header (``application/reports+json``, a list of
``{"type": "csp-violation", "body": {...}}``).  Anyone can post here, so the endpoint:

* refuses a body over :data:`MAX_BODY_BYTES` (413) before reading it, and more than
  :data:`MAX_REPORTS` reports per request;
* accepts at most :data:`PER_MINUTE` requests per client address and minute (429 with
  ``Retry-After``), counted in ``HARDENING_CACHE``;
* logs one line per distinct violation (directive, blocked URI, page, source file and line)
  per :data:`DEDUP_SECONDS`: a page that violates on every view does not flood the logs;
* counts every report in ``hardening_csp_reports_total{outcome, directive}`` (directive
  names from a fixed list, so the label set stays bounded);
* never logs query strings or fragments of the URIs (they may carry tokens).

It answers 204 and sets no cookie; it is CSRF-exempt (browsers post without a token).
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

from hardening import clock
from hardening.breaker import GuardedCache
from hardening.conf import conf as core
from hardening.errors import error_response
from hardening.observability.metrics import CSP_REPORTS
from hardening.request import state

logger = logging.getLogger("hardening.csp")

MAX_BODY_BYTES = 16 * 1024
MAX_REPORTS = 20
PER_MINUTE = 30
DEDUP_SECONDS = 600
#: The ``Reporting-Endpoints`` name the report-only policy's ``report-to`` uses.
ENDPOINT_NAME = "csp-endpoint"
CONTENT_TYPES = ("application/csp-report", "application/reports+json", "application/json")
DIRECTIVES = frozenset(
    {
        "default-src", "script-src", "script-src-elem", "script-src-attr", "style-src",
        "style-src-elem", "style-src-attr", "img-src", "font-src", "connect-src", "media-src",
        "object-src", "frame-src", "child-src", "worker-src", "manifest-src", "form-action",
        "frame-ancestors", "base-uri", "navigate-to", "require-trusted-types-for",
        "trusted-types", "upgrade-insecure-requests",
    }
)  # fmt: skip


def _uri(value: Any) -> str:
    """A URI without query and fragment, at most 200 characters (keywords kept)."""
    text = str(value or "")[:2048]
    try:
        parts = urlsplit(text)
    except ValueError:
        return "invalid"
    if not parts.scheme or not parts.netloc:
        return text.split("?")[0].split("#")[0][:200]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))[:200]


def _violations(document: Any) -> list[dict[str, str]]:
    """The reports of either format, normalised to the fields that are logged."""
    if isinstance(document, dict) and isinstance(document.get("csp-report"), dict):
        bodies = [document["csp-report"]]
    elif isinstance(document, list):
        bodies = [
            item.get("body")
            for item in document
            if isinstance(item, dict) and item.get("type") == "csp-violation"
        ]
    else:
        raise ValueError("not a CSP report")
    found = []
    for body in bodies[: MAX_REPORTS + 1]:
        if not isinstance(body, dict):
            continue

        def field(*names: str, body: dict[str, Any] = body) -> Any:
            return next((body[n] for n in names if body.get(n) not in (None, "")), "")

        directive = str(field("effectiveDirective", "effective-directive", "violated-directive"))
        found.append(
            {
                "directive": directive.split(" ")[0][:64],
                "blocked": _uri(field("blockedURL", "blocked-uri")),
                "page": _uri(field("documentURL", "document-uri")),
                "source": _uri(field("sourceFile", "source-file")),
                "line": str(field("lineNumber", "line-number"))[:10],
                "disposition": str(field("disposition") or "unknown")[:16],
            }
        )
    return found


def _limited(request: HttpRequest, cache: GuardedCache) -> bool:
    minute = int(clock.now() // 60)
    key = f"hardening:csp:rate:{state(request).client_ip}:{minute}"
    try:
        cache.add(key, 0, 120)
        count = cache.incr(key)
    except Exception:  # noqa: BLE001 - the cache is down: drop reports rather than log floods
        return True
    return int(count) > PER_MINUTE


def _first_time(violation: dict[str, str], cache: GuardedCache) -> bool:
    fields = [violation[k] for k in ("directive", "blocked", "page", "source", "line")]
    window = int(clock.now() // DEDUP_SECONDS)  # the clock seam decides, not the cache TTL
    digest = hashlib.sha256("|".join([str(window), *fields]).encode()).hexdigest()
    key = "hardening:csp:seen:" + digest
    try:
        return bool(cache.add(key, 1, DEDUP_SECONDS))
    except Exception:  # noqa: BLE001 - without the cache every report is logged
        return True


def _label(directive: str) -> str:
    return directive if directive in DIRECTIVES else "other"


@csrf_exempt
def csp_report(request: HttpRequest) -> HttpResponseBase:
    if request.method != "POST":
        allow = {"Allow": "POST"}
        return error_response(405, "method_not_allowed", "POST reports here.", headers=allow)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        CSP_REPORTS.labels(outcome="too_large", directive="none").inc()
        return error_response(413, "too_large", f"At most {MAX_BODY_BYTES} bytes.")
    cache = GuardedCache(core.HARDENING_CACHE)
    if _limited(request, cache):
        CSP_REPORTS.labels(outcome="rate_limited", directive="none").inc()
        retry = {"Retry-After": "60"}
        return error_response(429, "rate_limited", "Too many reports.", headers=retry)
    content_type = request.content_type or ""
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        CSP_REPORTS.labels(outcome="too_large", directive="none").inc()
        return error_response(413, "too_large", f"At most {MAX_BODY_BYTES} bytes.")
    try:
        if content_type not in CONTENT_TYPES:
            raise ValueError(content_type)
        violations = _violations(json.loads(body))
    except (ValueError, RecursionError):
        CSP_REPORTS.labels(outcome="invalid", directive="none").inc()
        return error_response(400, "invalid_report", "Expected a CSP violation report.")
    if len(violations) > MAX_REPORTS:
        CSP_REPORTS.labels(outcome="too_large", directive="none").inc()
        return error_response(413, "too_large", f"At most {MAX_REPORTS} reports.")
    for violation in violations:
        label = _label(violation["directive"])
        if not _first_time(violation, cache):
            CSP_REPORTS.labels(outcome="duplicate", directive=label).inc()
            continue
        CSP_REPORTS.labels(outcome="logged", directive=label).inc()
        logger.warning(
            "CSP violation (%s): %s blocked %s",
            violation["disposition"],
            violation["directive"],
            violation["blocked"],
            extra={"csp": violation, "request_id": state(request).request_id},
        )
    return HttpResponse(status=204)
