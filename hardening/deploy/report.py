"""The readiness report behind ``manage.py hardening_report``: one score out of 100 for a
deployment, and one line per finding with its fix.

Five parts, each worth a fixed share of the score (:data:`WEIGHTS`):

* ``checks``: every system check, deploy checks included, as ``check --deploy`` runs them
  (silenced ids left out); an Error costs 10 points, a Warning 3;
* ``secrets``: the checks about ``SECRET_KEY``, the JWT key, field-encryption keys and
  operator tokens (:data:`SECRET_IDS`); an Error empties the share, a Warning costs 5;
* ``headers``: the headers the app sends, read from a real request through the whole
  middleware stack (:data:`EXPECTED_HEADERS`), each missing one a finding;
* ``services``: the readiness probes (``HARDENING_HEALTH_CHECKS``), each failing one a
  finding;
* ``mfa``: the share of active staff and superuser accounts with a confirmed TOTP device.

It reads settings and the database and makes one in-process request; it changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.core.checks import WARNING, run_checks

#: The share of the score of each part (total 100).
WEIGHTS: dict[str, int] = {"checks": 30, "secrets": 15, "headers": 20, "services": 20, "mfa": 15}

#: Check ids about secrets (hardening's and Django's).
SECRET_IDS = re.compile(r"^hardening\.[EW](00[1-6]|02[3-7]|04\d|05[01])$|^security\.W0(09|25)$")

#: Header → the fix, for the headers every HTML response of a production site carries.
EXPECTED_HEADERS: dict[str, str] = {
    "Strict-Transport-Security": "SECURE_HSTS_SECONDS = 31536000 (security_settings() does)",
    "Content-Security-Policy": "add SecurityHeadersMiddleware; set SECURE_CSP or HARDENING_CSP",
    "X-Content-Type-Options": "SECURE_CONTENT_TYPE_NOSNIFF = True",
    "Referrer-Policy": "SECURE_REFERRER_POLICY = 'strict-origin-when-cross-origin'",
    "Cross-Origin-Opener-Policy": "SECURE_CROSS_ORIGIN_OPENER_POLICY = 'same-origin'",
    "Permissions-Policy": "add hardening.middleware.SecurityHeadersMiddleware",
    "Cross-Origin-Resource-Policy": "add hardening.middleware.SecurityHeadersMiddleware",
    "X-Frame-Options": "add XFrameOptionsMiddleware with X_FRAME_OPTIONS = 'DENY'",
    "X-Request-ID": "add hardening.middleware.RequestMiddleware first in MIDDLEWARE",
}

#: The path the header probe requests (any answer, a 404 included, carries the headers).
PROBE_PATH = "/"


@dataclass(frozen=True)
class Finding:
    category: str
    severity: str  # "error" | "warning"
    id: str
    message: str
    fix: str


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def score(self) -> int:
        return round(sum(self.scores.values()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "max": sum(WEIGHTS.values()),
            "categories": {
                name: {"score": round(self.scores.get(name, 0), 1), "max": weight}
                for name, weight in WEIGHTS.items()
            },
            "findings": [asdict(f) for f in self.findings],
        }


def _check_findings() -> tuple[list[Finding], list[Finding]]:
    silenced = set(getattr(settings, "SILENCED_SYSTEM_CHECKS", ()))
    general: list[Finding] = []
    secret: list[Finding] = []
    for message in run_checks(include_deployment_checks=True):
        if message.level < WARNING or message.is_silenced() or message.id in silenced:
            continue
        identifier = message.id or ""
        severity = "error" if message.is_serious() else "warning"
        target = secret if SECRET_IDS.match(identifier) else general
        category = "secrets" if target is secret else "checks"
        fix = str(message.hint or "see docs/checks.md and Django's deployment checklist")
        target.append(Finding(category, severity, identifier, str(message.msg), fix))
    return general, secret


def _penalised(weight: int, findings: list[Finding], error: float, warning: float) -> float:
    lost = sum(error if f.severity == "error" else warning for f in findings)
    return max(0.0, weight - lost)


def _probe_host() -> str:
    for host in settings.ALLOWED_HOSTS:
        host = str(host).lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


def _header_findings() -> tuple[list[Finding], float]:
    from django.test import Client

    client = Client(HTTP_HOST=_probe_host(), raise_request_exception=False)
    try:
        response = client.get(PROBE_PATH, secure=True)
    except Exception as exc:  # noqa: BLE001 - a report never crashes on one probe
        finding = Finding("headers", "error", "headers", f"the probe failed: {exc!r}"[:200], "")
        return [finding], 0.0
    missing = [name for name in EXPECTED_HEADERS if name not in response.headers]
    findings = [
        Finding(
            "headers",
            "warning",
            f"header:{name}",
            f"GET {PROBE_PATH} over HTTPS answers {response.status_code} without {name}.",
            EXPECTED_HEADERS[name],
        )
        for name in missing
    ]
    present = len(EXPECTED_HEADERS) - len(missing)
    return findings, WEIGHTS["headers"] * present / len(EXPECTED_HEADERS)


def _service_findings() -> tuple[list[Finding], float]:
    from hardening.health.conf import conf as health_conf
    from hardening.health.plan import readiness_checks
    from hardening.health.runner import Runner

    runner = Runner()
    try:
        report = runner.evaluate(readiness_checks(), health_conf.HARDENING_HEALTH_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - bad health settings are E506's
        finding = Finding("services", "error", "service", f"no probe ran: {exc!r}"[:200], "")
        return [finding], 0.0
    finally:
        runner.close()
    outcomes = report.outcomes
    findings = [
        Finding(
            "services",
            "error" if outcome.status == "error" else "warning",
            f"service:{outcome.name}",
            f"{outcome.name} is {outcome.status}: {outcome.reason or 'no reason given'}.",
            "see docs/health.md; GET /health/ready with the operator token shows the same",
        )
        for outcome in outcomes
        if outcome.status != "ok"
    ]
    if not outcomes:
        return findings, float(WEIGHTS["services"])
    points = sum(
        {"ok": 1.0, "warning": 1.0, "degraded": 0.5}.get(outcome.status, 0.0)
        for outcome in outcomes
    )
    return findings, WEIGHTS["services"] * points / len(outcomes)


def _mfa_findings() -> tuple[list[Finding], float]:
    from django.contrib.auth import get_user_model
    from django.db import DatabaseError
    from django.db.models import Q

    User = get_user_model()  # noqa: N806
    try:
        staff = User.objects.filter(Q(is_staff=True) | Q(is_superuser=True), is_active=True)
        total = staff.count()
        covered = staff.filter(mfa_totp_devices__confirmed=True).distinct().count()
    except (DatabaseError, Exception) as exc:  # noqa: BLE001 - e.g. no is_staff field
        finding = Finding("mfa", "error", "mfa", f"staff accounts unreadable: {exc!r}"[:200], "")
        return [finding], 0.0
    if not total:
        return [], float(WEIGHTS["mfa"])
    findings = []
    if covered < total:
        findings.append(
            Finding(
                "mfa",
                "error",
                "mfa:staff",
                f"{total - covered} of {total} staff accounts have no confirmed MFA device.",
                "enrol them at /account/mfa/, or set HARDENING_MFA_REQUIRED for staff",
            )
        )
    return findings, WEIGHTS["mfa"] * covered / total


def build() -> Report:
    report = Report()
    general, secret = _check_findings()
    report.findings += general + secret
    report.scores["checks"] = _penalised(WEIGHTS["checks"], general, 10, 3)
    report.scores["secrets"] = _penalised(WEIGHTS["secrets"], secret, WEIGHTS["secrets"], 5)
    for name, part in (
        ("headers", _header_findings),
        ("services", _service_findings),
        ("mfa", _mfa_findings),
    ):
        findings, points = part()
        report.findings += findings
        report.scores[name] = points
    return report


def as_text(report: Report) -> str:
    lines = ["django-hardening readiness report", ""]
    for f in report.findings:
        lines.append(f"{f.severity.upper():7} {f.category:8} {f.id}: {f.message}")
        if f.fix:
            lines.append(f"{'':17}fix: {f.fix}")
    if not report.findings:
        lines.append("No findings.")
    lines.append("")
    for name, weight in WEIGHTS.items():
        lines.append(f"{name:9} {report.scores.get(name, 0):5.1f} / {weight}")
    lines.append(f"Score: {report.score}/{sum(WEIGHTS.values())}")
    return "\n".join(lines)
