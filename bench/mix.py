"""The "mix" scenario of bench/run.py: many users and client addresses, Zipf-distributed.

1,000 users (each with its own bearer token: simplejwt for the peer, OIDC for hardening)
and 200 client addresses (``X-Forwarded-For`` behind one trusted proxy), drawn
independently per request with Zipf weights ``1 / rank ** ZIPF_S``: a few users and
addresses are hot, most are cold.  The rate limits are the example's defaults times a
scale (:func:`rate_scale`) so that even the hottest user stays under 90 % of its limit at
``max_rps``: counted, never refused.  wrk draws per request through a Lua script
(:func:`wrk_script`); the Python fallback through :func:`chooser`.

Redis commands per request come from ``INFO commandstats`` (:func:`commands`): read before
and after each measured load, so the Redis must be the benchmark's own (the figures count
every client's commands).
"""

from __future__ import annotations

import bisect
import json
import math
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchproj import keys

USERS = keys.MIX_USERS
ADDRESSES = 200
ZIPF_S = 1.0
#: The example's defaults (user 100/m, anonymous IP 60/m, global 10000/m) per minute.
EXAMPLE_RATES = {"user": 100, "global": 10000}


def weights(n: int, s: float = ZIPF_S) -> list[float]:
    raw = [1 / rank**s for rank in range(1, n + 1)]
    total = sum(raw)
    return [w / total for w in raw]


def rate_scale(max_rps: float) -> int:
    """The factor on the example's rates that keeps the hottest user and the site-wide
    bucket under 90 % of their limits at ``max_rps`` requests per second."""
    per_minute = max_rps * 60
    top_user = weights(USERS)[0] * per_minute
    need = max(top_user / EXAMPLE_RATES["user"], per_minute / EXAMPLE_RATES["global"])
    return max(1, math.ceil(need / 0.9))


def addresses() -> list[str]:
    return [f"198.51.{i // 250}.{i % 250 + 1}" for i in range(ADDRESSES)]


def tokens(variant: str, keydir: Path, issuer: str) -> list[str]:
    ids = range(2, USERS + 2)
    if variant == "peer":
        return [keys.peer_token(keydir, i) for i in ids]
    if variant == "hardening":
        return [keys.oidc_token(keydir, issuer, i) for i in ids]
    return []


def _cdf(n: int) -> list[float]:
    out, acc = [], 0.0
    for w in weights(n):
        acc += w
        out.append(acc)
    out[-1] = 1.0
    return out


def wrk_script(path: Path, tokens_: list[str], seed: int = 16) -> Path:
    """A wrk Lua script that sets ``Authorization`` and ``X-Forwarded-For`` per request."""
    lua = f"""
local tokens = {json.dumps(tokens_).replace("[", "{").replace("]", "}")}
local addrs = {json.dumps(addresses()).replace("[", "{").replace("]", "}")}
local cu = {json.dumps(_cdf(USERS)).replace("[", "{").replace("]", "}")}
local ca = {json.dumps(_cdf(ADDRESSES)).replace("[", "{").replace("]", "}")}
local function pick(cdf)
  local r = math.random()
  local lo, hi = 1, #cdf
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < r then lo = mid + 1 else hi = mid end
  end
  return lo
end
init = function(args) math.randomseed({seed} + math.floor(os.clock() * 1e6)) end
request = function()
  if #tokens > 0 then wrk.headers["Authorization"] = "Bearer " .. tokens[pick(cu)] end
  wrk.headers["X-Forwarded-For"] = addrs[pick(ca)]
  return wrk.format("GET", nil)
end
"""
    path.write_text(lua)
    return path


def chooser(tokens_: list[str], base: dict[str, str]) -> Callable[[], dict[str, str]]:
    """Headers per request for the Python load generator (same draws as the wrk script)."""
    cu, ca, addrs = _cdf(USERS), _cdf(ADDRESSES), addresses()
    rng = random.Random(16)  # noqa: S311 - not security

    def headers() -> dict[str, str]:
        out = {**base, "X-Forwarded-For": addrs[bisect.bisect_left(ca, rng.random())]}
        if tokens_:
            out["Authorization"] = "Bearer " + tokens_[bisect.bisect_left(cu, rng.random())]
        return out

    return headers


def commands(client: Any) -> dict[str, int]:
    """``{command: calls}`` from ``INFO commandstats`` (scripts' own commands included)."""
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


def per_request(before: dict[str, int], after: dict[str, int], requests: int) -> dict[str, float]:
    """Redis calls per request: ``evalsha`` (round trips of the limiter's script), every
    command (those the scripts run included), and every command but the scripts'."""
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    total = sum(v for k, v in delta.items() if k != "info")
    scripts = delta.get("evalsha", 0) + delta.get("eval", 0)
    n = max(1, requests)
    return {
        "evalsha_per_request": scripts / n,
        "commands_per_request": total / n,
    }
