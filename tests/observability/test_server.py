"""Real gunicorn: Prometheus multiprocess mode and request IDs on the wire."""

from __future__ import annotations

import re
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.servers import serve

pytestmark = pytest.mark.server

SLOW_200 = re.compile(
    rb"^django_http_responses_total_by_status_view_method_total"
    rb'\{method="GET",status="200",view="slow"\} ([0-9.e+]+)$',
    re.M,
)


def test_multiprocess_metrics_sum_all_gunicorn_workers(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left over")  # on_starting removes it
    env = {
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "GUNICORN_CMD_ARGS": "-c python:hardening.gunicorn",
    }
    with serve("gunicorn", env=env, workers=3, tmp_path=tmp_path) as server:
        requests = 12
        # Concurrent slow requests keep every sync worker busy, so several serve some.
        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(pool.map(lambda _: server.get("/api/slow?ms=150").status, range(12)))
        assert statuses == [200] * requests
        pids = {p.stem.rsplit("_", 1)[1] for p in metrics_dir.glob("counter_*.db")}
        assert len(pids) >= 2, pids  # more than one worker counted requests
        assert "999999" not in pids
        for _ in range(6):  # whichever worker answers, it reports the sum of all
            reply = server.get("/metrics")
            assert reply.status == 200
            match = SLOW_200.search(reply.body)
            assert match, reply.body[:3000]
            assert float(match.group(1)) == requests
            # Only the multiprocess collector is exported: no per-process metrics.
            assert b"process_cpu_seconds_total" not in reply.body


def _raw_get(port: int, request_id: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"GET /api/me HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"X-Request-ID: " + request_id + b"\r\n\r\n"
        )
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("kind", ["gunicorn", "uvicorn"])
def test_request_id_on_the_wire(tmp_path: Path, kind: str) -> None:
    with serve(kind, tmp_path=tmp_path) as server:
        reply = server.get("/api/me", headers={"X-Request-ID": "wire-id-12345678"})
        assert reply.headers["x-request-id"] == "wire-id-12345678"
        assert reply.json()["request_id"] == "wire-id-12345678"  # type: ignore[index]
        for bad in (b"a" * 500, b"has spaces in it", b'quote"d-value-1', b"short"):
            raw = _raw_get(server.port, bad)
            head = raw.split(b"\r\n\r\n", 1)[0]
            ids = re.findall(rb"(?im)^x-request-id: (.*)$", head)
            assert len(ids) == 1, head
            assert re.fullmatch(rb"[0-9a-f]{32}\r?", ids[0]), ids
        reply = server.get("/nothing/here", headers={"X-Request-ID": "wire-404-12345678"})
        assert reply.status == 404
        assert reply.headers["x-request-id"] == "wire-404-12345678"
        assert reply.headers["content-security-policy"].startswith("default-src 'none'")
