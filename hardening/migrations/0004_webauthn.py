"""Passkeys (WebAuthn credentials and pending challenges) and trusted devices (issue 19)."""

from __future__ import annotations

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("hardening", "0003_tokenfamily"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="TrustedDevice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key_hash", models.CharField(max_length=64, unique=True)),
                ("label", models.CharField(blank=True, default="", max_length=128)),
                (
                    "verified_at",
                    models.FloatField(help_text="Unix time of the MFA that trusted it."),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("expires_at", models.DateTimeField()),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="mfa_trusted_devices",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "trusted device",
            },
        ),
        migrations.CreateModel(
            name="WebAuthnChallenge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("challenge_hash", models.CharField(max_length=64, unique=True)),
                ("purpose", models.CharField(max_length=16)),
                ("binding", models.CharField(max_length=64)),
                ("expires_at", models.FloatField()),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "WebAuthn challenge",
            },
        ),
        migrations.CreateModel(
            name="WebAuthnCredential",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(default="passkey", max_length=64)),
                (
                    "credential_id",
                    models.CharField(help_text="base64url", max_length=1400, unique=True),
                ),
                ("public_key", models.BinaryField(help_text="COSE_Key of the credential.")),
                ("sign_count", models.BigIntegerField(default=0)),
                ("user_handle", models.CharField(help_text="base64url", max_length=128)),
                ("transports", models.CharField(blank=True, default="", max_length=128)),
                ("aaguid", models.CharField(blank=True, default="", max_length=36)),
                ("backup_eligible", models.BooleanField(default=False)),
                ("user_verified", models.BooleanField(default=False)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="mfa_webauthn_credentials",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "WebAuthn credential",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user", "name"), name="hardening_webauthn_user_name"
                    )
                ],
            },
        ),
    ]
