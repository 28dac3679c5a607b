"""Admin integration: the ``hardening`` app's ModelAdmins (MFA devices and recovery codes,
API keys, registered on import), plus what a project adds to its own admin:

* ``lift_rate_limit_bans``: an admin action for your user admin that lifts the rate-limit
  bans of the selected users (``actions = [lift_rate_limit_bans]``);
* ``bans_view``: a staff-only page listing and lifting bans, to mount in your URLconf.
"""

from __future__ import annotations

from hardening.apikeys import admin as apikeys_admin  # noqa: F401  (registers APIKeyAdmin)
from hardening.mfa import admin as mfa_admin  # noqa: F401  (registers the ModelAdmins)
from hardening.ratelimit.admin import lift_rate_limit_bans
from hardening.ratelimit.views import bans_view

__all__ = ["bans_view", "lift_rate_limit_bans"]
