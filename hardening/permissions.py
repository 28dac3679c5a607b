"""DRF permissions.

* ``MFAPolicy``: applies ``HARDENING_MFA_REQUIRED`` (who must have passed MFA) to every view;
  ``hardening.env.rest_framework_settings()`` makes it a default permission.
* ``RequireMFA``: this view needs a caller who passed MFA, whatever the policy.
* ``RequireRecentAuth(seconds)``: a step-up: MFA (or the login) no older than ``seconds``.
* ``is_mfa_verified(request)``: has this caller passed MFA (session or token)?

The rule itself is decided in one place (``hardening.mfa.policy``), shared with
``MFAMiddleware`` and the decorators of :mod:`hardening.decorators`.
"""

from __future__ import annotations

from hardening.mfa.permissions import MFAPolicy, RequireMFA, RequireRecentAuth
from hardening.mfa.policy import is_mfa_verified

__all__ = ["MFAPolicy", "RequireMFA", "RequireRecentAuth", "is_mfa_verified"]
