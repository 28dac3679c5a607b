"""Refresh-token families of the project's own tokens (:mod:`hardening.jwt.tokens`)."""

from __future__ import annotations

from django.db import models


class TokenFamily(models.Model):
    """One login's chain of rotated refresh tokens.

    Only ``current_jti`` may be refreshed: refreshing replaces it (one conditional UPDATE, so
    of two refreshes of the same token exactly one wins); presenting any older refresh token
    of the family is reuse and ends the family.  Logout, a password change and deactivation
    end families too.  A row can go once ``expires_at`` (the current refresh token's ``exp``)
    has passed: a refresh token whose family is unknown is refused.
    """

    family = models.CharField(max_length=64, unique=True)
    user_id = models.CharField(max_length=64, default="", db_index=True)
    #: The ``jti`` of the one refresh token of this family that may be refreshed.
    current_jti = models.CharField(max_length=64, default="")
    #: When the current refresh token expires (then the row can go).
    expires_at = models.DateTimeField(db_index=True)
    #: When the family was ended (None: live), and why.
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, default="", blank=True)

    class Meta:
        app_label = "hardening"
        verbose_name = "refresh-token family"
        verbose_name_plural = "refresh-token families"

    def __str__(self) -> str:
        return f"family {self.family}"
