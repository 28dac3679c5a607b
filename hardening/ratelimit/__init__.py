"""Internal: import from hardening.<public module> (``hardening.middleware``,
``hardening.decorators``).

Rate limits: site-wide middleware, per-view overrides (``rate_limit``), atomic counters and
bans.  See docs/ratelimit.md.
"""

from __future__ import annotations
