"""HTTP load: wrk (Debian package ``wrk``) or, when it is missing, a bounded Python
fallback (keep-alive connections in threads; far weaker than wrk, so absolute req/s are
lower and only the ratios mean anything)."""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def wrk_path() -> str | None:
    return shutil.which("wrk")


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unparsable wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not rps:
        raise RuntimeError(f"wrk gave no Requests/sec:\n{output}")
    result: dict[str, Any] = {"rps": float(rps.group(1))}
    for pct in ("50", "90", "99"):
        found = re.search(rf"^\s+{pct}%\s+(\S+)", output, re.M)
        result[f"p{pct}_ms"] = _ms(found.group(1)) if found else None
    total = re.search(r"(\d+) requests in", output)
    result["requests"] = int(total.group(1)) if total else None
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result["non2xx"] = int(non2xx.group(1)) if non2xx else 0
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    result["socket_errors"] = sum(int(g) for g in errors.groups()) if errors else 0
    return result


def run_wrk(
    url: str,
    headers: dict[str, str],
    duration: float,
    *,
    threads: int,
    connections: int,
    script: str | None = None,
    **_: Any,
) -> dict[str, Any]:
    wrk = wrk_path()
    assert wrk
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency"]
    if script:
        cmd += ["-s", script]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(url)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30, check=False)
    if done.returncode:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr}")
    result = parse_wrk(done.stdout)
    result["tool"] = "wrk"
    return result


def run_python(
    url: str,
    headers: dict[str, str],
    duration: float,
    *,
    connections: int,
    chooser: Callable[[], dict[str, str]] | None = None,
    **_: Any,
) -> dict[str, Any]:
    """Fallback: ``connections`` threads, one keep-alive connection each, for ``duration``
    (``chooser``: headers drawn per request)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path or "/"
    latencies: list[float] = []
    counts = {"ok": 0, "non2xx": 0, "errors": 0}
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def worker() -> None:
        mine: list[float] = []
        ok = bad = errors = 0
        conn = http.client.HTTPConnection(host, port, timeout=10)
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=chooser() if chooser else headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=10)
                continue
            mine.append((time.perf_counter() - started) * 1000)
            if 200 <= response.status < 300:
                ok += 1
            else:
                bad += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            counts["ok"] += ok
            counts["non2xx"] += bad
            counts["errors"] += errors

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + 30)
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(p: float) -> float | None:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] if latencies else None

    total = counts["ok"] + counts["non2xx"]
    return {
        "rps": total / elapsed if elapsed else 0.0,
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "requests": total,
        "non2xx": counts["non2xx"],
        "socket_errors": counts["errors"],
        "tool": "python-fallback",
    }


def load(
    url: str,
    headers: dict[str, str],
    duration: float,
    *,
    threads: int,
    connections: int,
    script: str | None = None,
    chooser: Callable[[], dict[str, str]] | None = None,
) -> dict[str, Any]:
    """``script`` (wrk) or ``chooser`` (the Python fallback) vary the headers per request."""
    if wrk_path():
        return run_wrk(
            url, headers, duration, threads=threads, connections=connections, script=script
        )
    return run_python(url, headers, duration, connections=connections, chooser=chooser)
