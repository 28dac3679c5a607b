"""An admin action that lifts the rate-limit bans of the selected users.

Bans live in the rate-limit cache, not in the database, so the action belongs on your user
admin::

    from django.contrib.auth.admin import UserAdmin
    from hardening.ratelimit.admin import lift_rate_limit_bans

    class MyUserAdmin(UserAdmin):
        actions = [lift_rate_limit_bans]

IP bans are lifted on the staff page (``hardening.ratelimit.views.bans_view``) or with
``manage.py lift_ban --ip``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from hardening.ratelimit.bans import lift_ban


@admin.action(description="Lift the rate-limit bans of the selected users", permissions=["change"])
def lift_rate_limit_bans(
    modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]
) -> None:
    """Lift the ban (and the violation count) of every selected user; audited per user."""
    selected = list(queryset.values_list("pk", flat=True))
    lifted = sum(lift_ban(f"u:{pk}", request=request, by="admin") for pk in selected)
    modeladmin.message_user(
        request,
        f"Lifted {lifted} active ban(s) among {len(selected)} selected user(s).",
        messages.SUCCESS,
    )
