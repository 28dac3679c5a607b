"""Admin integration: support staff see a user's devices, passkeys and trusted browsers,
can revoke a passkey or a browser, and can reset their MFA.

Secrets are never shown.  "Reset MFA" deletes the selected devices' users' devices and
recovery codes and records an ``mfa.reset`` audit event per user.  Identity proofing
before a reset (ASVS 6.4.4) is an organisational duty this action cannot do for you.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from hardening.mfa.models import RecoveryCode, TOTPDevice, TrustedDevice, WebAuthnCredential
from hardening.mfa.reset import reset_mfa


@admin.action(description="Reset MFA of the selected devices' users", permissions=["delete"])
def reset_selected(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    user_ids = sorted(set(queryset.values_list("user_id", flat=True)))
    for user_id in user_ids:
        reset_mfa(user_id, actor=request.user, request=request, via="admin")
    modeladmin.message_user(request, f"MFA reset for {len(user_ids)} user(s).", messages.SUCCESS)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["user", "name", "confirmed", "created_at", "last_used_at", "failure_count"]
    list_filter = ["confirmed"]
    search_fields = ["user__username", "name"]
    fields = ["user", "name", "confirmed", "digits", "period", "created_at", "last_used_at"]
    readonly_fields = [
        "user",
        "name",
        "confirmed",
        "digits",
        "period",
        "created_at",
        "last_used_at",
    ]
    actions = [reset_selected]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RecoveryCode)
class RecoveryCodeAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["user", "created_at", "used_at"]
    fields = ["user", "created_at", "used_at"]
    readonly_fields = ["user", "created_at", "used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebAuthnCredential)
class WebAuthnCredentialAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Passkeys: support sees them and can delete one (a lost or stolen key)."""

    list_display = ["user", "name", "backup_eligible", "created_at", "last_used_at"]
    search_fields = ["user__username", "name"]
    fields = ["user", "name", "backup_eligible", "aaguid", "sign_count", "created_at"]
    readonly_fields = ["user", "name", "backup_eligible", "aaguid", "sign_count", "created_at"]
    actions = [reset_selected]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(TrustedDevice)
class TrustedDeviceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Trusted browsers: deleting a row revokes that browser (its cookie is then worthless)."""

    list_display = ["user", "label", "created_at", "expires_at", "last_used_at"]
    search_fields = ["user__username"]
    fields = ["user", "label", "created_at", "expires_at", "last_used_at"]
    readonly_fields = ["user", "label", "created_at", "expires_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
