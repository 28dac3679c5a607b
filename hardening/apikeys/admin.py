"""The API keys in the admin: list, revoke, and make one (the key is shown once, on the page
that answers the form, never stored or put in a message cookie)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from hardening.apikeys import keys
from hardening.apikeys.models import APIKey
from hardening.observability.audit import audit


class APIKeyForm(forms.ModelForm):  # type: ignore[type-arg]
    scopes = forms.CharField(required=False, help_text="Comma-separated scopes.")

    class Meta:
        model = APIKey
        fields = ["name", "user", "service", "scopes", "expires_at"]

    def clean_scopes(self) -> list[str]:
        try:
            return keys.clean_scopes(str(self.cleaned_data.get("scopes") or "").split(","))
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("user") is None) == (not data.get("service")):
            raise forms.ValidationError("Give exactly one owner: a user or a service name.")
        return data


@admin.action(description="Revoke the selected API keys", permissions=["change"])
def revoke_selected(modeladmin: Any, request: HttpRequest, queryset: QuerySet[APIKey]) -> None:
    count = sum(keys.revoke(row, request=request, by="admin") for row in queryset)
    modeladmin.message_user(request, f"{count} API key(s) revoked.", messages.SUCCESS)


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = APIKeyForm
    list_display = ["public_id", "name", "owner", "created_at", "expires_at", "last_used_at"]
    list_filter = ["revoked_at"]
    search_fields = ["public_id", "name", "service", "user__username"]
    readonly_fields = ["public_id", "created_at", "last_used_at", "revoked_at", "replaced_by"]
    actions = [revoke_selected]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["name", "user", "service", "scopes", "expires_at"]
        return ["public_id", "name", "owner_display", *self.readonly_fields[1:], "scope_list"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        return [*self.readonly_fields, "name", "owner_display", "scope_list"]

    @admin.display(description="owner")
    def owner_display(self, obj: APIKey) -> str:
        return obj.owner

    @admin.display(description="scopes")
    def scope_list(self, obj: APIKey) -> str:
        return ", ".join(obj.scopes) or "-"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Rows are never edited (a key's scopes are part of what was handed out); the
        # changelist still offers the revoke action to who may change keys.
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: APIKey, form: Any, change: bool) -> None:
        if change:  # pragma: no cover - has_change_permission refuses edits
            return
        request._hardening_api_key = keys.assign(obj)  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)
        audit("apikey.created", request=request, key_id=obj.public_id, owner=obj.owner, by="admin")

    def response_add(
        self, request: HttpRequest, obj: APIKey, post_url_continue: Any = None
    ) -> HttpResponse:
        key = getattr(request, "_hardening_api_key", None)
        if key is None:  # pragma: no cover
            return super().response_add(request, obj, post_url_continue)
        response = TemplateResponse(
            request,
            "admin/hardening/apikey/created.html",
            {
                **self.admin_site.each_context(request),
                "title": "API key created",
                "row": obj,
                "key": key,
                "back": reverse("admin:hardening_apikey_changelist"),
            },
        )
        response["Cache-Control"] = "no-store"
        return response
