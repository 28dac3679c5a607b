"""MFA models: TOTP devices, recovery codes and the pending login step.

Secrets are stored encrypted (:mod:`hardening.crypto`); recovery codes and ``mfa_token``
values only as SHA-256 hashes (both carry >= 120 bits of entropy, ASVS 5.0 6.5.2).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from hardening import crypto


class TOTPDevice(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_totp_devices"
    )
    name = models.CharField(max_length=64, default="default")
    encrypted_secret = models.TextField(help_text="Fernet token of the base32 secret.")
    digits = models.PositiveSmallIntegerField(default=6)
    period = models.PositiveSmallIntegerField(default=30)
    confirmed = models.BooleanField(default=False)
    #: The last accepted time step; a code is accepted only when its step is greater.
    last_t = models.BigIntegerField(default=-1)
    failure_count = models.PositiveIntegerField(default=0)
    throttled_until = models.FloatField(
        null=True, blank=True, help_text="Unix time before which no code is checked."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "hardening"
        verbose_name = "TOTP device"
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="hardening_totp_user_name"),
        ]

    def __str__(self) -> str:
        state = "confirmed" if self.confirmed else "unconfirmed"
        return f"{self.name} ({state})"

    @property
    def secret(self) -> str:
        return crypto.decrypt(self.encrypted_secret)

    @secret.setter
    def secret(self, value: str) -> None:
        self.encrypted_secret = crypto.encrypt(value)


class RecoveryCode(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_recovery_codes"
    )
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "hardening"

    def __str__(self) -> str:
        return "used" if self.used_at else "unused"


class MFAChallenge(models.Model):
    """The pending second step of a password login; the client holds an opaque token."""

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.FloatField()
    expires_at = models.FloatField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used = models.BooleanField(default=False)

    class Meta:
        app_label = "hardening"
        verbose_name = "MFA login challenge"

    def __str__(self) -> str:
        return f"challenge {self.pk}"
