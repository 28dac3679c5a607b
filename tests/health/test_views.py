"""Probes in process: status codes, body shape, access to details, caching, timeouts."""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from django.test import Client, override_settings
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from prometheus_client import REGISTRY

from hardening.health import runner

pytestmark = pytest.mark.django_db

TOKEN = "t" * 40
CALLS: dict[str, int] = {}
RELEASE = threading.Event()


@dataclasses.dataclass
class Slow(HealthCheck):
    seconds: float = 0.5

    def health_name(self) -> str:
        return f"slow{self.seconds:g}"

    def run(self) -> None:
        time.sleep(self.seconds)


MEETING = threading.Barrier(3)


@dataclasses.dataclass
class Meeting(HealthCheck):
    """Passes only when all three Meeting checks are running at the same time."""

    name: str = "a"

    def health_name(self) -> str:
        return f"meeting-{self.name}"

    def run(self) -> None:
        try:
            MEETING.wait(timeout=1.5)
        except threading.BrokenBarrierError:
            raise ServiceUnavailable("ran alone") from None


@dataclasses.dataclass
class Blocked(HealthCheck):
    """Blocks until RELEASE is set: a dependency that never answers."""

    def run(self) -> None:
        CALLS["blocked"] = CALLS.get("blocked", 0) + 1
        RELEASE.wait(30)


@dataclasses.dataclass
class Counting(HealthCheck):
    def run(self) -> None:
        CALLS["counting"] = CALLS.get("counting", 0) + 1


@dataclasses.dataclass
class Leaky(HealthCheck):
    """A third-party check whose messages name the host and password."""

    def run(self) -> None:
        raise ServiceUnavailable("connection to postgres://app:hunter2@db.internal:5432 failed")


@dataclasses.dataclass
class Crashing(HealthCheck):
    public_messages: ClassVar[bool] = True

    def run(self) -> None:
        raise RuntimeError("secret-dsn postgres://app:hunter2@db.internal/app")


@dataclasses.dataclass
class AsyncOk(HealthCheck):
    async def run(self) -> None:
        return None


def only(*checks: Any, **changes: Any) -> override_settings:
    """Readiness with just the given checks (HARDENING_HEALTH_CHECKS entries)."""
    return override_settings(**{"HARDENING_HEALTH_CHECKS": list(checks), **changes})


def with_disk(**options: Any) -> override_settings:
    """The automatic set with the disk check's options changed."""
    return only("database", "migrations", "cache", ("disk", options))


def get(path: str = "/health/ready", **headers: Any) -> tuple[int, dict[str, Any]]:
    response = Client().get(path, **headers)
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)


def test_all_healthy_is_200_with_each_check() -> None:
    status, body = get()
    assert status == 200, body
    assert body["status"] == "ok"
    assert {"database", "migrations", "cache", "disk"} <= set(body["checks"])
    for check in body["checks"].values():
        assert check["status"] == "ok"
        assert check["duration_ms"] >= 0


def test_live_needs_no_dependency() -> None:
    with only("tests.health.test_views.Leaky"):
        status, body = get("/health/live")
        assert (status, body["status"]) == (200, "ok")
        assert get()[0] == 503


def test_trailing_slash_and_head_work_other_methods_are_405() -> None:
    assert Client().get("/health/ready/").status_code == 200
    assert Client().head("/health/live").status_code == 200
    for path in ("/health/ready", "/health/live"):
        response = Client().post(path)
        assert response.status_code == 405, path
        assert response["Allow"] == "GET, HEAD"
        assert json.loads(response.content)["error"] == "method_not_allowed"


def test_disk_above_threshold_is_503() -> None:
    with with_disk(max_percent=0.001, warn_percent=None):
        status, body = get()
    assert status == 503
    assert body["status"] == "error"
    assert body["checks"]["disk"]["status"] == "error"
    assert "% used (limit 0.001%)" in body["checks"]["disk"]["reason"]
    assert body["checks"]["database"]["status"] == "ok"


def test_disk_warning_stays_200_unless_configured() -> None:
    with with_disk(warn_percent=0.001):
        status, body = get()
        assert (status, body["status"]) == (200, "warning")
        assert body["checks"]["disk"]["status"] == "warning"
    # HARDENING_HEALTH_FAIL_ON_WARNING was removed: a check named in
    # HARDENING_HEALTH_CRITICAL fails readiness on its warning.
    with with_disk(warn_percent=0.001), override_settings(HARDENING_HEALTH_CRITICAL=["disk"]):
        status, body = get()
        assert status == 503
        assert body["checks"]["disk"]["status"] == "error"
        assert body["checks"]["disk"]["reason"].endswith("(warning at 0.001%)")


def test_noncritical_failure_is_degraded() -> None:
    # HARDENING_HEALTH_NONCRITICAL was removed: an entry with {"critical": False} is a
    # dependency this instance tolerates, its failure "degraded" (200), like a cache's.
    with only(("tests.health.test_views.Leaky", {"critical": False})):
        status, body = get()
    assert (status, body["status"], body["checks"]["leaky"]["status"]) == (
        200,
        "degraded",
        "degraded",
    )


def test_missing_disk_path_fails_without_naming_it() -> None:
    with with_disk(path="/nonexistent/secret-mount"):
        status, body = get()
    assert status == 503
    assert "secret-mount" not in json.dumps(body)


def test_no_hosts_dsns_or_traces_in_the_body(caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="hardening.health"),
        only("tests.health.test_views.Leaky", "tests.health.test_views.Crashing"),
    ):
        status, body = get()
    text = json.dumps(body)
    assert status == 503
    for leak in ("hunter2", "db.internal", "5432", "postgres://", "Traceback", "RuntimeError"):
        assert leak not in text
    assert body["checks"]["leaky"]["reason"] == "unavailable"
    assert body["checks"]["crashing"]["reason"] == "unknown error"
    # ...but the log has the details, with the request ID.
    logged = [r for r in caplog.records if r.name == "hardening.health"]
    assert any(r.exc_info and "RuntimeError" in repr(r.exc_info[1]) for r in logged)
    assert all(body["request_id"] is None or body["request_id"] in r.getMessage() for r in logged)


def test_failures_are_audited_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    labels = {"check": "leaky"}
    before = REGISTRY.get_sample_value("hardening_health_failures_total", labels) or 0
    with (
        caplog.at_level(logging.INFO, logger="hardening.audit"),
        only("tests.health.test_views.Leaky"),
    ):
        get()
        get()  # cached: not counted twice
    after = REGISTRY.get_sample_value("hardening_health_failures_total", labels)
    assert after == before + 1
    events = [r for r in caplog.records if getattr(r, "event", None) == "health.failed"]
    assert len(events) == 1
    # No per-probe ERROR from django.request (error trackers would open an event each time).
    assert not [r for r in caplog.records if r.name == "django.request"]
    assert events[0].audit["check"] == "leaky"  # type: ignore[attr-defined]


def test_details_need_an_allowed_ip_or_the_token() -> None:
    with override_settings(HARDENING_HEALTH_TOKEN=TOKEN):
        status, body = get()  # loopback is no longer allowed once a token is set
        assert status == 200
        assert set(body) == {"status", "request_id"}
        status, body = get(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert "checks" in body
        status, body = get(HTTP_AUTHORIZATION="Bearer wrong-token")
        assert status == 200 and "checks" not in body  # a stale token never fails a probe
    with override_settings(HARDENING_OPERATOR_IPS=["10.0.0.0/8"]):
        assert "checks" not in get()[1]
        assert "checks" in get(REMOTE_ADDR="10.1.2.3")[1]


def test_plain_status_still_reports_failure() -> None:
    with only("tests.health.test_views.Leaky", HARDENING_OPERATOR_IPS=[]):
        status, body = get()
    assert (status, body["status"]) == (503, "error")
    assert "checks" not in body


@pytest.mark.usefixtures("uncached")
def test_checks_run_concurrently() -> None:
    """Each check waits for the other two at a barrier: run one after another, the first
    would wait alone until the barrier's timeout and fail."""
    MEETING.reset()
    meeting = [("tests.health.test_views.Meeting", {"name": n}) for n in "abc"]
    with only(*meeting, HARDENING_HEALTH_TIMEOUT=5):
        status, body = get()
    assert status == 200, body
    assert set(body["checks"]) == {"meeting-a", "meeting-b", "meeting-c"}


@pytest.mark.usefixtures("uncached")
def test_a_hung_check_answers_503_within_the_timeout_and_runs_once() -> None:
    RELEASE.clear()
    CALLS.pop("blocked", None)
    try:
        with only(
            "tests.health.test_views.Blocked",
            "tests.health.test_views.Counting",
            HARDENING_HEALTH_TIMEOUT=0.5,
        ):
            start = time.monotonic()
            status, body = get()
            elapsed = time.monotonic() - start
            assert status == 503
            assert 0.45 <= elapsed < 1.5
            assert body["checks"]["blocked"] == {
                "status": "error",
                "duration_ms": 500.0,
                "reason": "timed out after 0.5s",
            }
            assert body["checks"]["counting"]["status"] == "ok"
            # A second probe while the call is still blocked reuses it (single flight)
            # and, its deadline having passed, answers at once.
            start = time.monotonic()
            assert get()[0] == 503
            assert time.monotonic() - start < 0.4
            assert CALLS["blocked"] == 1
            assert runner.get_runner().in_flight() == ["blocked"]
            RELEASE.set()
            deadline = time.monotonic() + 5
            while get()[0] != 200:
                assert time.monotonic() < deadline
    finally:
        RELEASE.set()


def test_results_are_cached_for_a_short_time(cache_seconds: Callable[[float], None]) -> None:
    assert runner.CACHE_SECONDS == 1.0  # the constant; tests set it through the fixture
    CALLS.pop("counting", None)
    cache_seconds(60)
    with only("tests.health.test_views.Counting"):
        first = get()[1]
        second = get()[1]
        assert CALLS["counting"] == 1
        assert (first["cached"], second["cached"]) == (False, True)
    cache_seconds(0)
    with only("tests.health.test_views.Counting"):
        get()
        get()
    assert CALLS["counting"] == 3


def test_concurrent_probes_share_one_evaluation(cache_seconds: Callable[[float], None]) -> None:
    CALLS.pop("counting", None)
    cache_seconds(5)
    slow = ("tests.health.test_views.Slow", {"seconds": 0.3})
    with only(slow, "tests.health.test_views.Counting"):
        threads = [threading.Thread(target=get) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert CALLS["counting"] == 1


def test_async_checks_from_django_health_check_run_too() -> None:
    with only("tests.health.test_views.AsyncOk", "health_check.checks.Cache"):
        status, body = get()
    assert status == 200, body
    assert set(body["checks"]) == {"asyncok", "cache"}


async def test_async_client_asgi() -> None:
    from django.test import AsyncClient

    response = await AsyncClient().get("/health/ready")
    assert response.status_code == 200
    assert json.loads(response.content)["status"] == "ok"


def test_unapplied_migrations_fail_readiness() -> None:
    from django.conf import settings

    apps = [*settings.INSTALLED_APPS, "tests.health.pending"]
    with override_settings(INSTALLED_APPS=apps):
        status, body = get()
    assert status == 503
    assert body["checks"]["migrations"] == {
        "status": "error",
        "duration_ms": body["checks"]["migrations"]["duration_ms"],
        "reason": "1 migration(s) not applied",
    }


def test_invalid_settings_answer_503_not_500() -> None:
    with only("no.such.Check"):
        status, body = get()
    assert status == 503
    assert body["checks"] == {
        "configuration": {
            "status": "error",
            "duration_ms": 0.0,
            "reason": "invalid health settings",
        }
    }
    with with_disk(max_percent="ninety"):
        assert get()[0] == 503
    with override_settings(HARDENING_HEALTH_TIMEOUT="soon", HARDENING_HEALTH_CHECKS="x"):
        assert get()[0] == 200  # fall back to 2 s and the automatic set (E505, E506)


def test_checks_with_the_same_name_are_kept_apart() -> None:
    counting = "tests.health.test_views.Counting"
    with only(counting, ("tests.health.test_views.Slow", {"seconds": 0.01}), counting):
        status, body = get()
    assert status == 200
    assert set(body["checks"]) == {"counting", "slow0.01", "counting#2"}


def test_probes_are_exempt_from_the_rate_limits_of_the_example_project() -> None:
    client = Client(REMOTE_ADDR="203.0.113.77")  # an address no other test uses
    statuses = {client.get(path).status_code for path in ["/health/live", "/health/ready"] * 80}
    assert statuses == {200}  # the example's anonymous limit is 60/m per IP
    # ...while the same client is limited elsewhere.
    assert 429 in {client.get("/api/me").status_code for _ in range(80)}
