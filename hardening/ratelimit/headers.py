"""``RateLimit`` and ``RateLimit-Policy`` fields (draft-ietf-httpapi-ratelimit-headers-11).

Both are RFC 9651 Structured Field Lists of Strings with parameters::

    RateLimit-Policy: "user";q=100;w=60, "global";q=10000;w=60
    RateLimit: "user";r=42;t=17, "global";r=9001;t=17

Policy names are restricted to ``[A-Za-z0-9_.:-]`` (hardening.E300), so quoting them needs
no escaping.  Off by default: the draft (section 8.2) warns that they disclose capacity.
"""

from __future__ import annotations

from collections.abc import Sequence

from hardening.ratelimit.decision import WindowState


def window_name(state: WindowState) -> str:
    policy = state.check.policy
    if len(policy.rates) == 1:
        return policy.name
    return f"{policy.name}-{state.check.rate.seconds}s"


def ratelimit_headers(windows: Sequence[WindowState]) -> dict[str, str]:
    if not windows:
        return {}
    policy = ", ".join(
        f'"{window_name(w)}";q={w.check.rate.limit};w={w.check.rate.seconds}' for w in windows
    )
    current = ", ".join(f'"{window_name(w)}";r={w.remaining};t={w.reset}' for w in windows)
    return {"RateLimit-Policy": policy, "RateLimit": current}
