"""The API key row: who owns it, what it may do, and only a keyed hash of its secret."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class APIKey(models.Model):
    """One API key.  The key itself (``hk_live_<public_id>_<secret>``) is shown once, when it
    is made; the row keeps its public id and the HMAC-SHA-256 of the whole key."""

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    name = models.CharField(max_length=100, blank=True, default="")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="hardening_api_keys",
        help_text="The owner (a user), or leave empty and name a service.",
    )
    service = models.CharField(
        max_length=100, blank=True, default="", help_text="The owner when it is not a user."
    )
    scopes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    replaced_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        app_label = "hardening"
        verbose_name = "API key"
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(user__isnull=False) & models.Q(service=""))
                | (models.Q(user__isnull=True) & ~models.Q(service="")),
                name="hardening_apikey_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.owner})"

    def __repr__(self) -> str:
        return f"<APIKey {self.public_id}>"

    @property
    def owner(self) -> str:
        return f"service:{self.service}" if self.service else f"user:{self.user_id}"
