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


class WebAuthnCredential(models.Model):
    """A passkey or security key (WebAuthn public-key credential) of a user.

    Only public data is stored: the credential id, the COSE public key and the signature
    counter.  ``backup_eligible`` marks a synced (multi-device) passkey.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_webauthn_credentials"
    )
    name = models.CharField(max_length=64, default="passkey")
    credential_id = models.CharField(max_length=1400, unique=True, help_text="base64url")
    public_key = models.BinaryField(help_text="COSE_Key of the credential.")
    sign_count = models.BigIntegerField(default=0)
    user_handle = models.CharField(max_length=128, help_text="base64url")
    transports = models.CharField(max_length=128, blank=True, default="")
    aaguid = models.CharField(max_length=36, blank=True, default="")
    backup_eligible = models.BooleanField(default=False)
    user_verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "hardening"
        verbose_name = "WebAuthn credential"
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="hardening_webauthn_user_name"),
        ]

    def __str__(self) -> str:
        return self.name


class WebAuthnChallenge(models.Model):
    """A pending WebAuthn ceremony: the SHA-256 of its challenge, what it is for and what
    it is bound to (a session, an ``mfa_token``, a bearer token).  Deleting the row spends
    the challenge, so a challenge is used once even under concurrency."""

    challenge_hash = models.CharField(max_length=64, unique=True)
    purpose = models.CharField(max_length=16)
    binding = models.CharField(max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    expires_at = models.FloatField()

    class Meta:
        app_label = "hardening"
        verbose_name = "WebAuthn challenge"

    def __str__(self) -> str:
        return f"{self.purpose} challenge {self.pk}"


class TrustedDevice(models.Model):
    """A browser the user chose to trust after passing MFA; its cookie holds a random key
    whose SHA-256 is stored here.  Deleting the row revokes the browser."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mfa_trusted_devices"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    label = models.CharField(max_length=128, blank=True, default="")
    verified_at = models.FloatField(help_text="Unix time of the MFA that trusted it.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "hardening"
        verbose_name = "trusted device"

    def __str__(self) -> str:
        return self.label or f"device {self.pk}"
