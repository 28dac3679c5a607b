"""ASGI vs gthread: the hardening stack under uvicorn and under gunicorn gthread.

    .venv/bin/python bench/asgi_bench.py --rounds 3 --duration 10

Starts the bench project's "hardening" variant twice -- gunicorn ``-k gthread -w 2
--threads 4`` and ``uvicorn --workers 2`` -- and loads ``/api/ping`` (JWT, rate limit,
timeouts, the whole example middleware stack) with wrk, 16 connections, alternating the
order per round.  Prints req/s, p99, the servers' CPU time per request and
uvicorn/gthread per round and the median ratio (issue 14 item 7's target: >= 0.7); writes
``bench/results/asgi-latest.json``.  "By cpu" is gthread's CPU per request over uvicorn's:
the throughput ratio the two would reach when CPU-bound on an otherwise idle machine, and
much steadier than req/s while other jobs share the cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
from pathlib import Path
from typing import Any

import loadgen
from common import BENCH, PYTHON, BenchEnv, log
from httpserve import Server, free_port

BIN = Path(PYTHON).parent
KINDS = ("gthread", "uvicorn")


class KindServer(Server):
    """``httpserve.Server`` with the worker class chosen here."""

    def __init__(self, kind: str, env: dict[str, str], workers: int, logdir: Path) -> None:
        self.variant = kind
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/ping"
        self.log = logdir / f"asgi-bench-{kind}.log"
        self.launch(self.command(workers), env)

    def command(self, workers: int) -> list[str]:
        if self.variant == "gthread":
            cmd = [str(BIN / "gunicorn"), "benchproj.wsgi:application", "-w", str(workers)]
            cmd += ["-k", "gthread", "--threads", "4", "-b", f"127.0.0.1:{self.port}"]
            return [*cmd, "--log-level", "warning"]
        cmd = [str(BIN / "uvicorn"), "benchproj.asgi:application", "--workers", str(workers)]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"]
        return [*cmd, "--log-level", "warning"]


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its descendants: the server's
    cost per request is far steadier than its req/s on a machine shared with other jobs."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        child = int(stat.parent.name)
        parents[child] = int(fields[1])
        cpu[child] = (int(fields[11]) + int(fields[12])) / ticks
    tree, grown = {pid}, True
    while grown:
        more = {c for c, p in parents.items() if p in tree} - tree
        grown, tree = bool(more), tree | more
    return sum(cpu.get(p, 0.0) for p in tree)


def _profile(server: Server, duration: float) -> subprocess.Popen[bytes] | None:
    found = BIN / "py-spy" if (BIN / "py-spy").exists() else shutil.which("py-spy")
    if found is None:
        log("py-spy is not installed (venv or PATH): no profile")
        return None
    spy = Path(found)
    out = BENCH / "results" / f"{server.variant}.spy"
    cmd = [str(spy), "record", "-p", str(server.process.pid), "--subprocesses", "--threads"]
    cmd += ["-d", str(int(duration)), "-f", "raw", "-o", str(out), "--nonblocking"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--profile", action="store_true", help="py-spy (if installed) into results/<kind>.spy"
    )
    args = parser.parse_args()
    rounds: list[dict[str, Any]] = []
    load_before = os.getloadavg()[0]  # the machine must be quiet: other jobs skew req/s
    with BenchEnv() as bench:
        headers = {"X-Forwarded-Proto": "https"}
        token = bench.token("hardening")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        env = bench.env("hardening")
        servers = {k: KindServer(k, env, args.workers, bench.tmp) for k in KINDS}
        try:
            for server in servers.values():
                server.wait(headers)
            for index in range(args.rounds):
                order = KINDS if index % 2 == 0 else KINDS[::-1]
                results = {}
                for kind in order:
                    url = servers[kind].url
                    common = {"threads": args.threads, "connections": args.connections}
                    loadgen.load(url, headers, args.warmup, **common)
                    spy = _profile(servers[kind], args.duration) if args.profile else None
                    before = _tree_cpu(servers[kind].process.pid)
                    results[kind] = loadgen.load(url, headers, args.duration, **common)
                    used = _tree_cpu(servers[kind].process.pid) - before
                    served = results[kind].get("requests") or results[kind]["rps"] * args.duration
                    results[kind]["cpu_ms_per_request"] = used * 1000 / max(served, 1)
                    if spy is not None:
                        spy.wait(args.duration + 30)
                ratio = results["uvicorn"]["rps"] / max(results["gthread"]["rps"], 1e-9)
                cpu_ratio = results["gthread"]["cpu_ms_per_request"] / max(
                    results["uvicorn"]["cpu_ms_per_request"], 1e-9
                )
                rounds.append(
                    {"round": index + 1, "results": results, "ratio": ratio, "cpu_ratio": cpu_ratio}
                )
                cells = [
                    f"{k} {results[k]['rps']:7.0f} req/s p99 {results[k]['p99_ms'] or 0:6.1f} ms "
                    f"cpu {results[k]['cpu_ms_per_request']:.2f} ms/req"
                    for k in KINDS
                ]
                log("  ".join(cells) + f"  uvicorn/gthread {ratio:.2f} (by cpu {cpu_ratio:.2f})")
        finally:
            for server in servers.values():
                server.stop()
    summary = {kind: statistics.median(r["results"][kind]["rps"] for r in rounds) for kind in KINDS}
    summary["ratio"] = statistics.median(r["ratio"] for r in rounds)
    summary["cpu_ratio"] = statistics.median(r["cpu_ratio"] for r in rounds)
    summary["load_before_after"] = [load_before, os.getloadavg()[0]]
    log(f"median: {json.dumps(summary)}  (target uvicorn/gthread >= 0.7)")
    out = BENCH / "results" / "asgi-latest.json"
    out.write_text(json.dumps({"args": vars(args), "rounds": rounds, "summary": summary}, indent=2))
    log(f"wrote {out}")


if __name__ == "__main__":
    main()
