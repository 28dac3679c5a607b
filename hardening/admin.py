"""Admin registrations of the ``hardening`` app (MFA devices and recovery codes)."""

from __future__ import annotations

from hardening.mfa import admin as mfa_admin  # noqa: F401  (registers the ModelAdmins)
