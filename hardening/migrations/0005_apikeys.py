"""API keys (hardening.apikeys): public id, keyed hash, owner, scopes, expiry."""

from __future__ import annotations

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("hardening", "0004_webauthn"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="APIKey",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("public_id", models.CharField(editable=False, max_length=32, unique=True)),
                ("key_hash", models.CharField(editable=False, max_length=64)),
                ("name", models.CharField(blank=True, default="", max_length=100)),
                (
                    "service",
                    models.CharField(
                        blank=True,
                        default="",
                        help_text="The owner when it is not a user.",
                        max_length=100,
                    ),
                ),
                ("scopes", models.JSONField(blank=True, default=list)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("expires_at", models.DateTimeField(blank=True, null=True)),
                ("last_used_at", models.DateTimeField(blank=True, editable=False, null=True)),
                ("revoked_at", models.DateTimeField(blank=True, editable=False, null=True)),
                (
                    "replaced_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="hardening.apikey",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        help_text="The owner (a user), or leave empty and name a service.",
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="hardening_api_keys",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "API key",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("user__isnull", False), ("service", "")),
                            models.Q(
                                ("user__isnull", True), models.Q(("service", ""), _negated=True)
                            ),
                            _connector="OR",
                        ),
                        name="hardening_apikey_one_owner",
                    )
                ],
            },
        ),
    ]
