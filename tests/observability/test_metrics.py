from __future__ import annotations

from django.test import SimpleTestCase, override_settings
from prometheus_client import REGISTRY

from hardening.observability.metrics import AUTH_FAILURES, RATELIMIT_BLOCKS

TOKEN = "m" * 40


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class CounterTests(SimpleTestCase):
    def test_hardening_counters_increment_and_are_exported(self) -> None:
        before = sample("hardening_ratelimit_blocks_total", policy="ip")
        RATELIMIT_BLOCKS.labels(policy="ip").inc()
        assert sample("hardening_ratelimit_blocks_total", policy="ip") == before + 1
        response = self.client.get("/metrics")  # test client: REMOTE_ADDR 127.0.0.1
        assert response.status_code == 200
        assert b'hardening_ratelimit_blocks_total{policy="ip"}' in response.content

    def test_http_metrics_of_django_prometheus_count_requests(self) -> None:
        name = "django_http_responses_total_by_status_total"
        before = sample(name, status="404")
        self.client.get("/no/such/page")
        assert sample(name, status="404") == before + 1


class MetricsGateTests(SimpleTestCase):
    def test_loopback_is_allowed_by_default(self) -> None:
        response = self.client.get("/metrics", REMOTE_ADDR="::1")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        assert b"django_http_requests_total_by_method_total" in response.content

    def test_other_addresses_are_refused_and_counted(self) -> None:
        before = sample("hardening_auth_failures_total", reason="metrics_denied")
        response = self.client.get("/metrics", REMOTE_ADDR="203.0.113.7")
        assert response.status_code == 403
        assert response.json()["error"] == "forbidden"
        assert b"django_http" not in response.content
        assert sample("hardening_auth_failures_total", reason="metrics_denied") == before + 1

    def test_forwarded_for_is_not_trusted(self) -> None:
        response = self.client.get(
            "/metrics", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="127.0.0.1"
        )
        assert response.status_code == 403

    @override_settings(HARDENING_TRUSTED_PROXY_COUNT=1)
    def test_behind_a_configured_proxy_loopback_is_the_proxy_not_the_client(self) -> None:
        # A reverse proxy on the same host: every request arrives from loopback.
        forwarded = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}
        assert self.client.get("/metrics", **forwarded).status_code == 403
        local = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "127.0.0.1"}
        assert self.client.get("/metrics", **local).status_code == 200

    @override_settings(HARDENING_OPERATOR_IPS=["10.0.0.0/8"])
    def test_allow_list_takes_networks(self) -> None:
        assert self.client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
        assert self.client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
        assert self.client.get("/metrics", REMOTE_ADDR="::ffff:10.1.2.3").status_code == 200
        assert self.client.get("/metrics", REMOTE_ADDR="not-an-ip").status_code == 403

    @override_settings(HARDENING_METRICS_TOKEN=TOKEN)
    def test_token_is_required_once_configured_even_on_loopback(self) -> None:
        response = self.client.get("/metrics")
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        for header in (f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN}x", ""):
            response = self.client.get("/metrics", HTTP_AUTHORIZATION=header)
            assert response.status_code == 401, header
        response = self.client.get(
            "/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", REMOTE_ADDR="203.0.113.7"
        )
        assert response.status_code == 200
        assert b"hardening_auth_failures_total" in response.content

    @override_settings(HARDENING_METRICS_TOKEN=TOKEN, HARDENING_OPERATOR_IPS=["127.0.0.1"])
    def test_token_or_allow_list(self) -> None:
        assert self.client.get("/metrics").status_code == 200
        assert self.client.get("/metrics", REMOTE_ADDR="203.0.113.7").status_code == 401

    def test_only_get(self) -> None:
        assert self.client.post("/metrics").status_code == 405

    def test_refusal_is_audited(self) -> None:
        with self.assertLogs("hardening.audit", "WARNING") as logs:
            self.client.get("/metrics", REMOTE_ADDR="198.51.100.1")
        assert logs.records[0].event == "metrics.denied"  # type: ignore[attr-defined]

    def test_metric_counter_for_auth_failures_is_bounded(self) -> None:
        # reasons come from code, never from request data
        AUTH_FAILURES.labels(reason="metrics_denied")
        assert "reason" in AUTH_FAILURES._labelnames
