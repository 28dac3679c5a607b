"""HTTP benchmark: bare DRF vs the hand-built peer stack vs the hardening stack.

    .venv/bin/python bench/run.py --rounds 5 --duration 10

Starts one gunicorn per variant (``-w 2 -k sync``, loopback), smoke-tests them, then in
each round loads every variant in turn (order rotated per round): a warm-up, then wrk for
``--duration`` seconds.  Prints req/s, p99 and the ratios hardening/bare and
hardening/peer per round and their medians, then runs ``inproc.py``, ``micro.py`` and
``health_bench.py``; writes ``bench/results/latest.json`` and ``latest.md`` (not in git).
Never part of the unit tests.  Redis keys live under a prefix unique to the run and are
deleted at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from typing import Any

import loadgen
import mix
import report
from benchproj import stack
from common import BENCH, PYTHON, REDIS_URL, ROOT, BenchEnv, log, loud
from httpserve import Server, smoke

VARIANTS = ("bare", "peer", "hardening")


def ratios(results: dict[str, dict[str, Any]]) -> dict[str, float]:
    out = {}
    pairs = [("hardening", "bare"), ("hardening", "peer"), ("peer", "bare")]
    for num, den in pairs:
        if num in results and den in results and results[den]["rps"]:
            out[f"{num}/{den}"] = results[num]["rps"] / results[den]["rps"]
    return out


def run_http(bench: BenchEnv, args: argparse.Namespace, scenario: str = "hot") -> dict[str, Any]:
    """``hot``: one token, one address; ``mix``: bench/mix.py (1,000 users, 200 addresses,
    Zipf), the example's rates scaled so that nothing is refused."""
    variants = [v for v in VARIANTS if v in args.variants.split(",")]
    scale = mix.rate_scale(args.mix_max_rps) if scenario == "mix" else 0
    scripts: dict[str, str | None] = dict.fromkeys(variants)
    choosers: dict[str, Any] = dict.fromkeys(variants)
    tool = "wrk" if loadgen.wrk_path() else "python-fallback"
    if tool != "wrk":
        loud("wrk not found (apt-get install -y wrk): using the weaker Python load generator")
    description = stack.describe()
    headers = {v: {"X-Forwarded-Proto": "https"} for v in variants}
    for variant in variants:
        token = bench.token(variant)
        if token:
            headers[variant]["Authorization"] = f"Bearer {token}"
    if scenario == "mix":
        assert bench.jwks is not None
        for v in variants:
            toks = mix.tokens(v, bench.keydir, bench.jwks.issuer)
            scripts[v] = str(mix.wrk_script(bench.tmp / f"mix-{v}.lua", toks))
            choosers[v] = mix.chooser(toks, headers[v])
    servers = {}
    for v in variants:
        env = {**bench.env(v), "PERF_QUIET_WARNINGS": "1"}
        if scale:
            env["PERF_RATE_SCALE"] = str(scale)
        servers[v] = Server(v, env, args.workers, bench.tmp)
    rounds: list[dict[str, Any]] = []
    smokes: dict[str, Any] = {}
    try:
        for variant, server in servers.items():
            server.wait(headers[variant])
            smokes[variant] = smoke(server, headers[variant])
            log(f"{variant:9} up on :{server.port}  smoke {smokes[variant]}")
        for index in range(args.rounds):
            order = variants[index % len(variants) :] + variants[: index % len(variants)]
            results: dict[str, dict[str, Any]] = {}
            for variant in order:
                server = servers[variant]
                if args.warmup > 0:
                    loadgen.load(
                        server.url,
                        headers[variant],
                        args.warmup,
                        threads=args.threads,
                        connections=args.connections,
                    )
                before = mix.commands(bench.redis())
                results[variant] = loadgen.load(
                    server.url,
                    headers[variant],
                    args.duration,
                    threads=args.threads,
                    connections=args.connections,
                    script=scripts[variant],
                    chooser=choosers[variant],
                )
                res = results[variant]
                after = mix.commands(bench.redis())
                res.update(mix.per_request(before, after, res["requests"] or 0))
                if res["non2xx"] or res["socket_errors"]:
                    loud(
                        f"{variant}: {res['non2xx']} non-2xx, {res['socket_errors']} socket errors"
                    )
            rnd = {
                "round": index + 1,
                "order": order,
                "results": results,
                "ratios": ratios(results),
            }
            rounds.append(rnd)
            cells = "  ".join(
                f"{v} {results[v]['rps']:7.0f} req/s p99 {results[v]['p99_ms'] or 0:6.1f} ms"
                f" redis {results[v]['evalsha_per_request']:.2f} scripts"
                f" {results[v]['commands_per_request']:.2f} commands/req"
                for v in variants
            )
            ratio_text = "  ".join(f"{k} {v:.2f}" for k, v in rnd["ratios"].items())
            log(f"{scenario} round {index + 1}/{args.rounds}: {cells}  |  {ratio_text}")
        redis_keys = bench.count_redis_keys()
        jwks_fetches = bench.jwks.fetches if bench.jwks else 0
    finally:
        for server in servers.values():
            server.stop()
    summary_variants = {
        v: {
            "rps": report.median([r["results"][v]["rps"] for r in rounds]),
            "p99_ms": report.median([r["results"][v]["p99_ms"] for r in rounds]),
            "errors": sum(
                r["results"][v]["non2xx"] + r["results"][v]["socket_errors"] for r in rounds
            ),
            "evalsha_per_request": report.median(
                [r["results"][v]["evalsha_per_request"] for r in rounds]
            ),
            "commands_per_request": report.median(
                [r["results"][v]["commands_per_request"] for r in rounds]
            ),
        }
        for v in variants
    }
    keys = {k for r in rounds for k in r["ratios"]}
    summary_ratios = {
        k: report.median([r["ratios"][k] for r in rounds if k in r["ratios"]]) for k in sorted(keys)
    }
    return {
        "meta": {
            "scenario": scenario,
            "rate_scale": scale or None,
            "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "rounds": args.rounds,
            "duration": args.duration,
            "warmup": args.warmup,
            "threads": args.threads,
            "connections": args.connections,
            "workers": args.workers,
            "tool": tool,
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
            "loadavg_end": os.getloadavg(),
            "redis_keys_seen": redis_keys,
            "jwks_fetches": jwks_fetches,
        },
        "stack": description,
        "smoke": smokes,
        "rounds": rounds,
        "summary": {"variants": summary_variants, "ratios": summary_ratios},
    }


def run_inproc(bench: BenchEnv, args: argparse.Namespace) -> None:
    cmd = [
        PYTHON,
        str(BENCH / "inproc.py"),
        "--rounds",
        str(args.inproc_rounds),
        "--requests",
        str(args.inproc_requests),
        "--reuse-env",
    ]
    log("in-process breakdown: " + " ".join(cmd[1:]))
    done = subprocess.run(
        cmd,
        cwd=ROOT,
        env={**os.environ, **bench.env("all")},
        timeout=args.inproc_timeout,
        check=False,
    )
    if done.returncode:
        loud(f"inproc.py failed with {done.returncode}")


def run_script(name: str, *extra: str, timeout: float = 300) -> None:
    """Run another bench script (it writes its own section of the results)."""
    cmd = [PYTHON, str(BENCH / name), *extra]
    log(f"{name}: " + " ".join(cmd[2:]))
    try:
        done = subprocess.run(cmd, cwd=ROOT, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        loud(f"{name} timed out after {timeout} s")
        return
    if done.returncode:
        loud(f"{name} failed with {done.returncode}")


def run_health(args: argparse.Namespace) -> None:
    script = BENCH / "health_bench.py"
    log("readiness: bench/health_bench.py")
    try:
        cmd = [PYTHON, str(script), "--requests", str(args.health_requests)]
        done = subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, timeout=args.health_timeout, check=False
        )
    except subprocess.TimeoutExpired:
        loud("health_bench.py timed out")
        return
    print(done.stdout, end="")
    print(done.stderr, end="", file=sys.stderr)
    modes = {}
    pattern = re.compile(
        r"^(\S.*?)\s+n=(\d+)\s+p50=\s*([\d.]+) ms\s+p95=\s*([\d.]+) ms\s+p99=\s*([\d.]+) ms"
        r"\s+max=\s*([\d.]+) ms\s+statuses=(.*)$"
    )
    for line in done.stdout.splitlines():
        match = pattern.match(line.strip())
        if match:
            name, n, p50, p95, p99, top, statuses = match.groups()
            modes[name] = {
                "n": int(n),
                "p50_ms": float(p50),
                "p95_ms": float(p95),
                "p99_ms": float(p99),
                "max_ms": float(top),
                "statuses": statuses,
            }
    if not modes:
        loud(f"could not read figures from health_bench.py (exit {done.returncode})")
        return
    # The target (healthy services) is judged on the slowest healthy readiness mode
    # (uncached: every check runs); fault modes such as "pg hung" are recorded only.
    ready = [m for name, m in modes.items() if name in ("uncached", "cached")]
    ready = ready or [m for m in modes.values() if str(m["statuses"]).startswith("{200")]
    worst = max(m["p99_ms"] for m in ready)
    note = ", ".join(f"{name} p99 {m['p99_ms']:.2f} ms" for name, m in modes.items())
    report.save(
        "health", {"p99_ms": worst, "modes": modes, "note": note, "returncode": done.returncode}
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--duration", type=float, default=10, help="seconds of load per variant per round"
    )
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument(
        "--scenarios", default="hot,mix", help="hot (one token) and/or mix (bench/mix.py)"
    )
    parser.add_argument(
        "--mix-max-rps",
        type=float,
        default=5000,
        help="the load the mix's scaled limits must admit (nothing refused below it)",
    )
    parser.add_argument("--inproc-rounds", type=int, default=40)
    parser.add_argument("--inproc-requests", type=int, default=100)
    parser.add_argument("--inproc-timeout", type=float, default=600)
    parser.add_argument("--health-timeout", type=float, default=300)
    parser.add_argument("--health-requests", type=int, default=1000)
    parser.add_argument("--no-inproc", action="store_true")
    parser.add_argument("--no-health", action="store_true")
    parser.add_argument("--no-micro", action="store_true")
    parser.add_argument("--micro-repeats", type=int, default=9)
    parser.add_argument(
        "--redis-url",
        default=REDIS_URL,
        help="the benchmark's own Redis: INFO commandstats counts every client's commands",
    )
    args = parser.parse_args()
    budget = args.rounds * len(VARIANTS) * (args.duration + args.warmup + 1)
    budget *= len(args.scenarios.split(","))
    log(
        f"HTTP part: about {budget / 60:.1f} min "
        f"({args.rounds} rounds, {args.duration} s per variant)"
    )
    scenarios = [s for s in args.scenarios.split(",") if s in ("hot", "mix")]
    with BenchEnv(redis_url=args.redis_url) as bench:
        path = None
        for scenario in scenarios:
            http = run_http(bench, args, scenario)
            path = report.save("http" if scenario == "hot" else "http_mix", http)
            log(f"HTTP medians ({scenario}): {json.dumps(http['summary'])}")
        assert path is not None, "--scenarios names neither hot nor mix"
        if not args.no_inproc:
            run_inproc(bench, args)
    if not args.no_micro:
        run_script("micro.py", "--repeats", str(args.micro_repeats))
    if not args.no_health:
        run_health(args)
    data = report.load(path)
    print("\n" + report.render(data))
    log(f"wrote {path} and {path.with_suffix('.md')}")


if __name__ == "__main__":
    main()
