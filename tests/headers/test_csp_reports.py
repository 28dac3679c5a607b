"""CSP rollout: a report-only policy beside or instead of the enforced one, and the bounded
report endpoint (hardening.headers.reports) behind report-uri and Reporting-Endpoints."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client

from hardening.headers.reports import DEDUP_SECONDS, MAX_BODY_BYTES, PER_MINUTE
from hardening.observability.metrics import CSP_REPORTS
from tests.helpers.clock import FakeClock

pytestmark = pytest.mark.django_db
PAGE = "/account/login/"  # an HTML page of hardening.urls
REPORT_ONLY = {"default-src": ["'self'"], "script-src": ["'self'", "<CSP_NONCE_SENTINEL>"]}


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    caches["default"].clear()
    yield
    caches["default"].clear()


def counted(outcome: str, directive: str) -> float:
    return float(CSP_REPORTS.labels(outcome=outcome, directive=directive)._value.get())


def report(blocked: str = "https://evil.example/x.js?token=secret", **extra: Any) -> bytes:
    body = {
        "document-uri": "https://app.example.com/page?session=abc",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "blocked-uri": blocked,
        "source-file": "https://app.example.com/app.js",
        "line-number": 12,
        "disposition": "report",
        **extra,
    }
    return json.dumps({"csp-report": body}).encode()


def post(client: Client, body: bytes, content_type: str = "application/csp-report") -> Any:
    return client.post("/csp-report", body, content_type=content_type)


def test_report_only_beside_the_enforced_policy(client: Client, settings: Any) -> None:
    settings.HARDENING_CSP_REPORT_ONLY = REPORT_ONLY
    response = client.get(PAGE)
    assert response.status_code == 200
    enforced = response["Content-Security-Policy"]
    ro = response["Content-Security-Policy-Report-Only"]
    assert "default-src 'self'" in enforced and "report-uri" not in enforced
    assert ro.startswith("default-src 'self'; script-src 'self'")
    assert ro.endswith("; report-uri /csp-report; report-to csp-endpoint")
    assert response["Reporting-Endpoints"] == 'csp-endpoint="/csp-report"'
    # The page's nonce is the same in both policies.
    nonces = {part.split("'nonce-")[1].split("'")[0] for part in (enforced, ro) if "nonce-" in part}
    assert len(nonces) <= 1


def test_report_only_instead_of_the_enforced_policy(client: Client, settings: Any) -> None:
    settings.HARDENING_CSP = {}
    settings.SECURE_CSP = {}
    settings.HARDENING_CSP_REPORT_ONLY = REPORT_ONLY
    response = client.get(PAGE)
    assert "Content-Security-Policy" not in response
    assert "report-uri /csp-report" in response["Content-Security-Policy-Report-Only"]


def test_off_by_default_and_never_on_json(client: Client, settings: Any) -> None:
    assert "Content-Security-Policy-Report-Only" not in client.get(PAGE)
    settings.HARDENING_CSP_REPORT_ONLY = REPORT_ONLY
    assert "Content-Security-Policy-Report-Only" not in client.get("/api/me")


def test_a_report_is_logged_once_without_query_strings(
    client: Client, caplog: pytest.LogCaptureFixture, clock: FakeClock
) -> None:
    logged, duplicate = (
        counted("logged", "script-src-elem"),
        counted("duplicate", "script-src-elem"),
    )
    with caplog.at_level(logging.WARNING, logger="hardening.csp"):
        for _ in range(3):
            assert post(client, report()).status_code == 204
    records = [r for r in caplog.records if r.name == "hardening.csp"]
    assert len(records) == 1
    violation = records[0].csp  # type: ignore[attr-defined]
    assert violation["blocked"] == "https://evil.example/x.js"
    assert violation["page"] == "https://app.example.com/page"
    assert "secret" not in records[0].getMessage() and "abc" not in json.dumps(violation)
    assert counted("logged", "script-src-elem") == logged + 1
    assert counted("duplicate", "script-src-elem") == duplicate + 2
    clock.advance(DEDUP_SECONDS + 1)  # a lasting problem is logged again, once per window
    with caplog.at_level(logging.WARNING, logger="hardening.csp"):
        post(client, report())
    assert len([r for r in caplog.records if r.name == "hardening.csp"]) == 2


def test_the_reporting_api_format(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    reports = [
        {
            "type": "csp-violation",
            "body": {"effectiveDirective": d, "blockedURL": "inline", "documentURL": "https://a/"},
        }
        for d in ("style-src-attr", "made-up-directive")
    ] + [{"type": "deprecation", "body": {}}]
    other = counted("logged", "other")
    with caplog.at_level(logging.WARNING, logger="hardening.csp"):
        response = post(client, json.dumps(reports).encode(), "application/reports+json")
    assert response.status_code == 204
    assert len([r for r in caplog.records if r.name == "hardening.csp"]) == 2
    assert counted("logged", "other") == other + 1  # labels stay bounded


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"x" * (MAX_BODY_BYTES + 1), "application/csp-report", 413),
        (b"{not json", "application/csp-report", 400),
        (b'{"something": "else"}', "application/csp-report", 400),
        (b'{"csp-report": {}}', "text/plain", 400),
        (
            json.dumps([{"type": "csp-violation", "body": {}}] * 50).encode(),
            "application/reports+json",
            413,
        ),
    ],
)
def test_bad_reports_are_4xx_json(
    client: Client, body: bytes, content_type: str, status: int
) -> None:
    response = post(client, body, content_type)
    assert response.status_code == status
    assert response.json()["error"] and response.json()["request_id"]


def test_rate_limited_per_client(client: Client) -> None:
    statuses = [
        post(client, report(blocked=f"https://x.example/{n}.js")).status_code
        for n in range(PER_MINUTE + 2)
    ]
    assert statuses[:PER_MINUTE] == [204] * PER_MINUTE
    assert statuses[PER_MINUTE:] == [429, 429]
    limited = post(client, report())
    assert limited["Retry-After"] == "60"


def test_get_is_405_and_no_csrf_token_is_needed(settings: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    assert browser.get("/csp-report").status_code == 405
    assert post(browser, report()).status_code == 204


def test_w621_when_the_report_endpoint_is_not_mounted(settings: Any) -> None:
    from hardening.headers.checks import check_csp_reports

    settings.HARDENING_CSP_REPORT_ONLY = REPORT_ONLY
    assert check_csp_reports() == []
    settings.ROOT_URLCONF = "tests.headers.interplay_urls"
    assert [m.id for m in check_csp_reports()] == ["hardening.W621"]
    settings.HARDENING_CSP_REPORT_ONLY = {}
    assert check_csp_reports() == []


def test_an_unparsable_uri_is_logged_as_invalid(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="hardening.csp"):
        assert post(client, report(blocked="https://[::1/x.js")).status_code == 204
    (record,) = [r for r in caplog.records if r.name == "hardening.csp"]
    assert record.csp["blocked"] == "invalid"  # type: ignore[attr-defined]


def test_reports_whose_body_is_not_an_object_are_skipped(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    reports = [{"type": "csp-violation", "body": body} for body in ("text", None, [1], 7)]
    with caplog.at_level(logging.WARNING, logger="hardening.csp"):
        response = post(client, json.dumps(reports).encode(), "application/reports+json")
    assert response.status_code == 204
    assert not [r for r in caplog.records if r.name == "hardening.csp"]


def test_reports_are_dropped_while_the_cache_is_down(client: Client) -> None:
    """No counter, no limit: a 429 rather than one log line per report from anyone."""
    from hardening.breaker import for_cache

    for_cache("default").failure(TimeoutError())
    limited = counted("rate_limited", "none")
    response = post(client, report())
    assert response.status_code == 429 and response["Retry-After"] == "60"
    assert response.json()["error"] == "rate_limited"
    assert counted("rate_limited", "none") == limited + 1


def test_every_report_is_logged_when_the_dedup_key_cannot_be_written(
    client: Client, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = caches["default"]
    add = cache.add

    def failing_add(key: str, *args: Any, **kwargs: Any) -> Any:
        if key.startswith("hardening:csp:seen:"):
            raise ValueError("cannot store")  # an answer, not an outage: the breaker stays
        return add(key, *args, **kwargs)

    monkeypatch.setattr(cache, "add", failing_add)
    with caplog.at_level(logging.WARNING, logger="hardening.csp"):
        for _ in range(2):
            assert post(client, report()).status_code == 204
    assert len([r for r in caplog.records if r.name == "hardening.csp"]) == 2


def asgi_report(body: bytes, content_length: str) -> Any:
    """The view called with an ASGI request whose body is not cut at its Content-Length (a
    header that is no number, here two values joined, counts as none).  Straight to the view:
    django-prometheus's after-middleware answers 500 to such a header (it calls ``int()`` on
    it); real servers refuse the request before Django sees it."""
    from django.test import AsyncRequestFactory

    from hardening.headers.reports import csp_report

    request = AsyncRequestFactory().post(
        "/csp-report",
        body,
        content_type="application/csp-report",
        headers={"Content-Length": content_length},
    )
    return csp_report(request)


def test_an_unusable_content_length_does_not_lift_the_body_limit() -> None:
    too_large = counted("too_large", "none")
    response = asgi_report(b" " * (MAX_BODY_BYTES + 1), "10")
    assert response.status_code == 413  # the read itself stops one byte over the limit
    assert json.loads(response.content)["error"] == "too_large"
    assert counted("too_large", "none") == too_large + 1


def test_an_unusable_content_length_with_a_small_body_is_read(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="hardening.csp"):
        response = asgi_report(report(blocked="https://small.example/a.js"), "x")
    assert response.status_code == 204
    (record,) = [r for r in caplog.records if r.name == "hardening.csp"]
    assert record.csp["blocked"] == "https://small.example/a.js"  # type: ignore[attr-defined]
