"""Rate limits: site-wide middleware, per-view overrides, atomic counters and bans.

See docs/ratelimit.md.  Import the pieces from their modules
(``hardening.ratelimit.middleware.RateLimitMiddleware``,
``hardening.ratelimit.decorators.ratelimit``) so that importing this package stays cheap.
"""

from __future__ import annotations
