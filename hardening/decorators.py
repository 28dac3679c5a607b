"""View decorators.

* ``mfa_required``, ``recent_auth_required(seconds)``: the MFA rule of
  :mod:`hardening.permissions` for plain Django views.
* ``rate_limit(...)``: a view's own rate-limit policy (or ``exempt=True``), counted by
  ``RateLimitMiddleware`` with the site-wide policies in the same round trip.
* ``request_timeout(seconds)``: a view's own deadline (``None``: none).
"""

from __future__ import annotations

from hardening.mfa.decorators import mfa_required, recent_auth_required
from hardening.ratelimit.decorators import rate_limit
from hardening.timeout.deadline import request_timeout

__all__ = ["mfa_required", "rate_limit", "recent_auth_required", "request_timeout"]
