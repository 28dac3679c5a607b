"""``hardening.middleware.PrometheusAfterMiddleware``: django-prometheus's metrics, each
labelled child looked up once, and no time series per made-up HTTP method."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import RequestFactory, override_settings
from django.urls import resolve
from django_prometheus.middleware import PrometheusAfterMiddleware as Upstream
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase

from hardening.middleware import PrometheusAfterMiddleware
from hardening.observability.prometheus import MAX_CHILDREN
from hardening.timeout.island import inline_hooks
from tests.helpers.checks import check_error_codes

UPSTREAM = "django_prometheus.middleware.PrometheusAfterMiddleware"
OURS = "hardening.middleware.PrometheusAfterMiddleware"
LATENCY = "django_http_requests_latency_seconds_by_view_method"

factory = RequestFactory()


def _stack(cls: type) -> Callable[[HttpRequest], Any]:
    def view(request: HttpRequest) -> HttpResponse:
        if request.path == "/boom":
            raise ValueError("boom")
        status = 404 if request.path == "/missing" else 200
        return JsonResponse({"ok": True}, status=status)

    def inner(request: HttpRequest) -> HttpResponse:
        request.resolver_match = resolve("/health/live")
        middleware.process_view(request, view, (), {})
        try:
            return view(request)
        except ValueError as exc:
            middleware.process_exception(request, exc)
            return HttpResponse(status=500)

    middleware = cls(inner)
    return middleware


def _requests() -> Iterator[HttpRequest]:
    for _ in range(3):
        yield factory.get("/ok")
        yield factory.post("/ok", b'{"a": 1}', content_type="application/json")
        yield factory.get("/missing", HTTP_X_REQUESTED_WITH="XMLHttpRequest")
        yield factory.get("/boom")
        yield factory.generic("PURGE", "/ok")


Key = tuple[str, tuple[tuple[str, str], ...]]


def _samples() -> dict[Key, float]:
    found = {}
    for family in REGISTRY.collect():
        if not family.name.startswith("django_http_"):
            continue
        for sample in family.samples:
            if sample.name.startswith(LATENCY) and not sample.name.endswith("_count"):
                continue  # the latency itself is a time: only how many were observed
            if sample.name.endswith("_created"):
                continue
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _delta(cls: type) -> dict[Key, float]:
    before = _samples()
    stack = _stack(cls)
    for request in _requests():
        stack(request)
    after = _samples()
    return {
        key: value - before.get(key, 0.0)
        for key, value in after.items()
        if value != before.get(key, 0.0)
    }


def _invalid(key: Key) -> Key:
    name, labels = key
    return name, tuple(
        (k, "<invalid method>" if (k, v) == ("method", "PURGE") else v) for k, v in labels
    )


def test_the_same_metrics_as_django_prometheus() -> None:
    upstream = _delta(Upstream)
    ours = _delta(PrometheusAfterMiddleware)
    assert ours, "the requests were counted"
    expected: dict[Key, float] = {}
    for key, value in upstream.items():
        # the one difference: the latency's method label for a made-up method
        target = _invalid(key) if key[0].startswith(LATENCY) else key
        expected[target] = expected.get(target, 0.0) + value
    assert ours == expected
    assert any(dict(labels).get("status") == "404" for _name, labels in ours)
    assert any(name.startswith("django_http_exceptions_total_by_type") for name, _ in ours)


def test_each_labelled_child_is_looked_up_once(monkeypatch: pytest.MonkeyPatch) -> None:
    stack = _stack(PrometheusAfterMiddleware)
    for request in _requests():
        stack(request)
    calls: list[dict[str, Any]] = []
    original = MetricWrapperBase.labels

    def counting(self: MetricWrapperBase, *args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(MetricWrapperBase, "labels", counting)
    for request in _requests():
        stack(request)
    assert calls == []
    monkeypatch.setattr(MetricWrapperBase, "labels", original)


def test_made_up_methods_add_no_time_series() -> None:
    stack = _stack(PrometheusAfterMiddleware)
    for number in range(20):
        stack(factory.generic(f"MADEUP{number}", "/ok"))
    methods = {
        sample.labels.get("method")
        for family in REGISTRY.collect()
        if family.name.startswith("django_http_")
        for sample in family.samples
    }
    assert not {m for m in methods if m and m.startswith("MADEUP")}
    assert "<invalid method>" in methods


def test_children_past_the_bound_are_looked_up_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("hardening.observability.prometheus.MAX_CHILDREN", 2)
    middleware = PrometheusAfterMiddleware(lambda request: HttpResponse())
    metric = middleware.metrics.responses_by_status
    for status in ("201", "202", "203", "201"):
        child = middleware.label_metric(metric, None, status=status)
        assert child is metric.labels(status=status)
    assert len(middleware._children) == 2
    assert MAX_CHILDREN > 2


def test_checks_treat_it_as_django_prometheus_after_middleware() -> None:
    ours = [OURS if m == UPSTREAM else m for m in settings.MIDDLEWARE]
    assert ours[-1] == OURS
    with override_settings(MIDDLEWARE=ours):
        codes = check_error_codes()
    assert "hardening.E033" not in codes and "hardening.E604" not in codes
    not_last = [*ours[:-2], OURS, ours[-2]]
    with override_settings(MIDDLEWARE=not_last):
        assert "hardening.E033" in check_error_codes()


def test_its_hooks_run_on_the_event_loop() -> None:
    assert inline_hooks(PrometheusAfterMiddleware) is not PrometheusAfterMiddleware


@pytest.mark.django_db
@pytest.mark.parametrize("length", ["abc", "16385,10", "-1", "1e3"])
def test_a_content_length_that_is_no_number_is_a_400_not_a_500(
    length: str, events: list[tuple[str, dict[str, Any]]]
) -> None:
    """django-prometheus reads ``int(Content-Length)`` and raised: a 500 for any client."""
    from django.test import Client

    before = (
        REGISTRY.get_sample_value("hardening_bad_requests_total", {"code": "bad_content_length"})
        or 0.0
    )
    response = Client(raise_request_exception=False).generic(
        "POST", "/csp-report", b"{}", content_type="application/csp-report", CONTENT_LENGTH=length
    )
    assert response.status_code == 400
    assert response.json()["error"] == "bad_content_length"
    assert response.json()["request_id"] == response["X-Request-ID"]
    assert "Content-Security-Policy" in response or "content-security-policy" in response.headers
    assert ("request.rejected", "bad_content_length") in [
        (name, fields.get("reason")) for name, fields in events
    ]
    labels = {"code": "bad_content_length"}
    assert REGISTRY.get_sample_value("hardening_bad_requests_total", labels) == before + 1
