"""Revoked refresh-token families (``hardening.jwt.lifecycle``)."""

from __future__ import annotations

from django.db import models

__all__ = ["RevokedTokenFamily"]


class RevokedTokenFamily(models.Model):
    """A login's chain of rotated refresh tokens, ended because a rotated one was replayed."""

    family = models.CharField(max_length=64, unique=True)
    user_id = models.CharField(max_length=64, default="")
    revoked_at = models.DateTimeField(auto_now_add=True)
    #: When the family's last refresh token expires at the latest (then the row can go).
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        app_label = "hardening"
        verbose_name = "revoked refresh-token family"
        verbose_name_plural = "revoked refresh-token families"

    def __str__(self) -> str:
        return f"family {self.family}"
