"""``GET /health/live`` and ``GET /health/ready``.

* ``live``: 200 ``{"status": "ok"}`` whenever the process serves requests; it touches no
  dependency, so a database outage never makes an orchestrator restart healthy pods.
* ``ready``: "can this instance serve?"  200 when every readiness check passes, warns
  (``warning``) or fails only in a dependency this instance tolerates (``degraded``: a
  fail-open cache, stale JWKS keys, a check with ``critical=False``); **503** when this
  instance cannot serve (the database, or any failure, warning or degradation of a check
  named in ``HARDENING_HEALTH_CRITICAL``).  The body is ``{"status", "request_id"}`` for
  everyone and adds ``checks`` (each check's status, duration and a fixed-text reason) for
  operators (:mod:`hardening.access`): ``Authorization: Bearer <HARDENING_HEALTH_TOKEN>``,
  or a client address in ``HARDENING_OPERATOR_IPS``.  No stack trace, host name or DSN is
  ever in a body: failures are logged on ``hardening.health`` with the request ID, audited
  as ``health.failed`` and counted in ``hardening_health_failures_total``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from hardening.access import bearer_token, operator_address, token_matches
from hardening.context import current_request_id
from hardening.errors import error_response
from hardening.health import runner
from hardening.health.conf import conf
from hardening.health.plan import readiness_checks
from hardening.health.runner import Outcome, Report, get_runner
from hardening.observability.audit import audit
from hardening.observability.metrics import BAD_REQUESTS, HEALTH_DEGRADED, HEALTH_FAILURES

_ALLOWED_METHODS = ("GET", "HEAD")


def detail_allowed(request: HttpRequest) -> bool:
    """May this client see each check's status? (The overall status is public.)"""
    expected = conf.HARDENING_HEALTH_TOKEN
    supplied = bearer_token(request)
    if expected and supplied is not None:
        if token_matches(supplied, expected):
            return True
        # A stale token must not fail the probe (that would restart-loop pods after a
        # rotation): answer with the plain status, but record it.
        BAD_REQUESTS.labels(code="health_token_invalid").inc()
        audit("request.rejected", request=request, reason="health_token_invalid")
    return operator_address(request, expected)


def _method_not_allowed(request: HttpRequest) -> HttpResponse:
    BAD_REQUESTS.labels(code="method_not_allowed").inc()
    audit("request.rejected", request=request, reason="method_not_allowed")
    return error_response(
        405, "method_not_allowed", "Use GET or HEAD.", headers={"Allow": "GET, HEAD"}
    )


def _json(body: dict[str, Any], status: int) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
def live(request: HttpRequest) -> HttpResponse:
    if request.method not in _ALLOWED_METHODS:
        return _method_not_allowed(request)
    return _json({"status": "ok", "request_id": current_request_id()}, 200)


def _record_failures(request: HttpRequest, report: Report) -> None:
    for outcome in report.outcomes:
        if outcome.status == "error":
            HEALTH_FAILURES.labels(check=outcome.name).inc()
            audit("health.failed", request=request, check=outcome.name, reason=outcome.reason)
        elif outcome.status == "degraded":
            HEALTH_DEGRADED.labels(check=outcome.name).inc()


def _reclassify(report: Report) -> Report:
    """A check named in HARDENING_HEALTH_CRITICAL fails readiness on ``degraded`` and on
    ``warning`` too: its outcome becomes ``error``."""
    critical = set(conf.HARDENING_HEALTH_CRITICAL)
    if not critical:
        return report

    def status(o: Outcome) -> str:
        return "error" if o.name in critical and o.status in ("degraded", "warning") else o.status

    outcomes = tuple(Outcome(o.name, status(o), o.duration, o.reason) for o in report.outcomes)
    return Report(outcomes, report.created)


@csrf_exempt
def ready(request: HttpRequest) -> HttpResponse:
    if request.method not in _ALLOWED_METHODS:
        return _method_not_allowed(request)
    timeout = conf.HARDENING_HEALTH_TIMEOUT  # an unusable value is 2 s (hardening.E505)
    report, fresh = get_runner().report(readiness_checks, timeout, runner.CACHE_SECONDS)
    report = _reclassify(report)
    if fresh:
        _record_failures(request, report)
    failing = report.status == "error"
    body: dict[str, Any] = {"status": report.status, "request_id": current_request_id()}
    if detail_allowed(request):
        body["checks"] = {
            outcome.name: {
                "status": outcome.status,
                "duration_ms": round(outcome.duration * 1000, 3),
                **({"reason": outcome.reason} if outcome.reason else {}),
            }
            for outcome in report.outcomes
        }
        body["cached"] = not fresh
    response = _json(body, 503 if failing else 200)
    # The failure is logged above (hardening.health, once per evaluation); skip Django's
    # "Service Unavailable" ERROR line per probe, which error trackers turn into events.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response
