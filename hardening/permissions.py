"""DRF permissions.

* ``MFAPolicy``: applies ``HARDENING_MFA_REQUIRED`` (who must have passed MFA) to every view;
  ``hardening.env.rest_framework_settings()`` makes it a default permission.
* ``RequireMFA``: this view needs a caller who passed MFA, whatever the policy.
* ``RequireRecentAuth(seconds)``: a step-up: MFA (or the login) no older than ``seconds``.
* ``is_mfa_verified(request)``: has this caller passed MFA (session or token)?
* ``HasScope(*scopes)`` / ``HasAnyScope(*scopes)``: every / one of the scopes of the
  credential (an API key's scopes, a token's ``scope``/``scp``/``scopes``); ``HasRole(*roles)``
  (token roles, Clerk ``org_role``, a session user's groups); ``HasOrgPermission(*perms)`` and
  ``HasOrgRole(*roles)`` (Clerk organisations).  A refusal is 403 JSON naming what is missing
  (``insufficient_scope``, ``insufficient_role``, ``insufficient_permission``).
* ``scopes_of(request)``, ``roles_of(request)``, ``org_permissions_of(request)``.

The rule itself is decided in one place (``hardening.mfa.policy``), shared with
``MFAMiddleware`` and the decorators of :mod:`hardening.decorators`.
"""

from __future__ import annotations

from hardening.mfa.permissions import MFAPolicy, RequireMFA, RequireRecentAuth
from hardening.mfa.policy import is_mfa_verified
from hardening.scopes import (
    HasAnyScope,
    HasOrgPermission,
    HasOrgRole,
    HasRole,
    HasScope,
    org_permissions_of,
    roles_of,
    scopes_of,
)

__all__ = [
    "HasAnyScope",
    "HasOrgPermission",
    "HasOrgRole",
    "HasRole",
    "HasScope",
    "MFAPolicy",
    "RequireMFA",
    "RequireRecentAuth",
    "is_mfa_verified",
    "org_permissions_of",
    "roles_of",
    "scopes_of",
]
