"""Results: merge one section into ``bench/results/latest.json`` and render ``latest.md``."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = {
    "hardening/bare (HTTP req/s)": (">=", 0.6),
    "hardening/peer (HTTP req/s)": (">=", 2.0),
    "in-process cost added by the hardening stack (µs)": ("<=", 350.0),
    "readiness p99 (ms)": ("<=", 50.0),
    # issue 16
    "hot: limiter scripts per request (hardening)": ("<=", 0.25),
    "mix: hardening/bare (HTTP req/s)": (">=", 0.45),
    "mix: hardening/peer (HTTP req/s)": (">=", 1.8),
    "hot: hardening p99 - (2 x bare p99 + 5 ms)": ("<=", 0.0),
    "mix: hardening p99 - (2 x bare p99 + 5 ms)": ("<=", 0.0),
}


def median(values: list[float]) -> float | None:
    clean = [v for v in values if v is not None]
    return statistics.median(clean) if clean else None


def load(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    except (OSError, ValueError):
        return {}


def save(section: str, value: Any, path: Path | None = None) -> Path:
    """Replace ``section`` of the results file and re-render the Markdown next to it."""
    path = path or RESULTS / "latest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = load(path)
    data[section] = value
    data["targets"] = targets(data)
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    path.with_suffix(".md").write_text(render(data))
    return path


def targets(data: dict[str, Any]) -> dict[str, Any]:
    measured: dict[str, float | None] = {
        "hardening/bare (HTTP req/s)": None,
        "hardening/peer (HTTP req/s)": None,
        "in-process cost added by the hardening stack (µs)": None,
        "readiness p99 (ms)": None,
    }
    ratios = data.get("http", {}).get("summary", {}).get("ratios", {})
    measured["hardening/bare (HTTP req/s)"] = ratios.get("hardening/bare")
    measured["hardening/peer (HTTP req/s)"] = ratios.get("hardening/peer")
    inproc = data.get("inproc", {}).get("summary", {})
    measured["in-process cost added by the hardening stack (µs)"] = inproc.get("hardening_added_us")
    measured["readiness p99 (ms)"] = data.get("health", {}).get("p99_ms")
    hot = data.get("http", {}).get("summary", {}).get("variants", {})
    measured["hot: limiter scripts per request (hardening)"] = hot.get("hardening", {}).get(
        "evalsha_per_request"
    )
    mixed = data.get("http_mix", {}).get("summary", {})
    measured["mix: hardening/bare (HTTP req/s)"] = mixed.get("ratios", {}).get("hardening/bare")
    measured["mix: hardening/peer (HTTP req/s)"] = mixed.get("ratios", {}).get("hardening/peer")
    for label, variants in (("hot", hot), ("mix", mixed.get("variants", {}))):
        ours = variants.get("hardening", {}).get("p99_ms")
        bare = variants.get("bare", {}).get("p99_ms")
        name = f"{label}: hardening p99 - (2 x bare p99 + 5 ms)"
        measured[name] = None if ours is None or bare is None else ours - (2 * bare + 5)
    out = {}
    for name, (op, limit) in TARGETS.items():
        value = measured[name]
        met = None if value is None else (value >= limit if op == ">=" else value <= limit)
        out[name] = {"target": f"{op} {limit:g}", "measured": value, "met": met}
    return out


def _f(value: Any, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def render(data: dict[str, Any]) -> str:
    lines = ["# Benchmark results (latest run)", ""]
    lines += ["## Targets (issue 9)", "", "| target | goal | measured | met |", "|---|---|---|---|"]
    for name, item in data.get("targets", {}).items():
        met = {True: "yes", False: "**NO**", None: "not measured"}[item["met"]]
        lines.append(f"| {name} | {item['target']} | {_f(item['measured'])} | {met} |")
    http = data.get("http")
    if http:
        meta = http.get("meta", {})
        lines += ["", "## HTTP (gunicorn, loopback)", ""]
        lines.append(
            f"{meta.get('started', '')}: {meta.get('rounds')} rounds x {meta.get('duration')} s, "
            f"{meta.get('tool')} -t{meta.get('threads')} -c{meta.get('connections')}, "
            f"gunicorn -w {meta.get('workers')} -k sync, warm-up {meta.get('warmup')} s."
        )
        lines += ["", "| variant | median req/s | median p99 ms | errors |", "|---|---|---|---|"]
        for variant, item in http.get("summary", {}).get("variants", {}).items():
            lines.append(
                f"| {variant} | {_f(item['rps'], 0)} | {_f(item['p99_ms'], 1)} | {item['errors']} |"
            )
        names = list(http.get("summary", {}).get("variants", {}))
        keys = ["hardening/bare", "hardening/peer"]
        lines += ["", "req/s (p99) per round; ratios within the round:", ""]
        lines.append("| round | " + " | ".join(names + keys) + " |")
        lines.append("|---" * (1 + len(names) + len(keys)) + "|")
        for rnd in http.get("rounds", []):
            res = rnd["results"]
            cells = [
                f"{_f(res[v]['rps'], 0)} ({_f(res[v]['p99_ms'], 1)} ms)" if v in res else "—"
                for v in names
            ]
            cells += [_f(rnd["ratios"].get(k)) for k in keys]
            lines.append(f"| {rnd['round']} | " + " | ".join(cells) + " |")
        ratios = http.get("summary", {}).get("ratios", {})
        medians = [f"**{_f(ratios.get(k))}**" for k in keys]
        lines.append("| **median** | " + " | ".join([""] * len(names) + medians) + " |")
    inproc = data.get("inproc")
    if inproc:
        meta = inproc.get("meta", {})
        lines += ["", "## In-process cost per request (WSGIHandler, no HTTP)", ""]
        lines.append(
            f"{meta.get('started', '')}: {meta.get('rounds')} rounds x "
            f"{meta.get('requests')} requests per stack, rotating order; median µs."
        )
        lines += ["", "| stack | median µs | added vs bare µs |", "|---|---|---|"]
        for row in inproc.get("stacks", []):
            lines.append(
                f"| {row['name']} | {_f(row['median_us'], 0)} | {_f(row['added_us'], 0)} |"
            )
        lines += ["", "Attribution (hardening components added one at a time, in order):", ""]
        lines += ["| component | µs/request |", "|---|---|"]
        for row in inproc.get("components", []):
            lines.append(f"| {row['component']} | {_f(row['us'], 0)} |")
    micro = data.get("micro")
    if micro:
        lines += ["", "## Microbenchmarks (bench/micro.py, median µs per call)", ""]
        lines += ["| operation | µs |", "|---|---|"]
        for row in micro.get("rows", []):
            name = row["operation"].replace("  ", "&nbsp;&nbsp;")
            lines.append(f"| {name} | {_f(row['median_us'], 1)} |")
    health = data.get("health")
    if health:
        lines += ["", "## Readiness (bench/health_bench.py)", ""]
        lines.append(f"p99 {_f(health.get('p99_ms'))} ms; {health.get('note', '')}")
    stack = (http or {}).get("stack") or (inproc or {}).get("stack")
    if stack:
        lines += ["", "## Hardening stack measured", ""]
        lines += [f"- `{m}`" for m in stack.get("middleware", [])]
        lines.append(f"- DRF auth: {', '.join(f'`{c}`' for c in stack.get('auth_classes', []))}")
        lines.append(
            f"- DRF permissions: {', '.join(f'`{c}`' for c in stack.get('permission_classes', []))}"
        )
        if stack.get("dropped"):
            lines.append(
                "- left out (Django's general middleware, in neither bare nor peer): "
                + ", ".join(f"`{m.rsplit('.', 1)[1]}`" for m in stack["dropped"])
            )
    return "\n".join(lines) + "\n"
