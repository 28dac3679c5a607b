"""The example's user admin, with the action that lifts rate-limit bans, and its exchange
credentials (encrypted fields, masked)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from example_project.models import ExchangeCredential
from hardening.admin import lift_rate_limit_bans

User = get_user_model()

if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class ExampleUserAdmin(UserAdmin):  # type: ignore[type-arg]
    actions = [lift_rate_limit_bans]


@admin.register(ExchangeCredential)
class ExchangeCredentialAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Secrets are password boxes that never render the stored value (hardening.crypto)."""

    list_display = ["user", "exchange", "hint", "created_at"]
    fields = ["user", "exchange", "api_key", "api_secret", "extra"]
