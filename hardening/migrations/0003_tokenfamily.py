"""Refresh-token families replace simplejwt's token blacklist: the revoked families of
0002 become ended families (reason ``reuse``)."""

from __future__ import annotations

from typing import Any

from django.db import migrations, models


def _ended_by_reuse(apps: Any, schema_editor: Any) -> None:
    family = apps.get_model("hardening", "TokenFamily")
    family.objects.filter(ended_at__isnull=True).update(
        ended_at=models.F("revoked_at"), end_reason="reuse"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("hardening", "0002_revokedtokenfamily"),
    ]

    operations = [
        migrations.RenameModel("RevokedTokenFamily", "TokenFamily"),
        migrations.AlterModelOptions(
            name="tokenfamily",
            options={
                "verbose_name": "refresh-token family",
                "verbose_name_plural": "refresh-token families",
            },
        ),
        migrations.AddField(
            model_name="tokenfamily",
            name="current_jti",
            field=models.CharField(default="", max_length=64),
        ),
        migrations.AddField(
            model_name="tokenfamily",
            name="ended_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="tokenfamily",
            name="end_reason",
            field=models.CharField(blank=True, default="", max_length=32),
        ),
        migrations.AlterField(
            model_name="tokenfamily",
            name="user_id",
            field=models.CharField(db_index=True, default="", max_length=64),
        ),
        migrations.RunPython(_ended_by_reuse, migrations.RunPython.noop),
        migrations.RemoveField(model_name="tokenfamily", name="revoked_at"),
    ]
