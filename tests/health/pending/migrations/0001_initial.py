"""A migration that is never applied: installing this app makes readiness fail."""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []
    operations = [
        migrations.CreateModel(
            name="Pending",
            fields=[("id", models.BigAutoField(primary_key=True, serialize=False))],
        )
    ]
