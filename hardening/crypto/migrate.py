"""Moving a plaintext column to an encrypted field inside a migration (docs/encryption.md)::

    from hardening.crypto import EncryptedTextField, encrypt_plaintext

    class Migration(migrations.Migration):
        operations = [
            migrations.AlterField("exchangeaccount", "api_secret", EncryptedTextField()),
            encrypt_plaintext("exchange", "ExchangeAccount", "api_secret"),
        ]

The column type does not change (text either way); :func:`encrypt_plaintext` then rewrites
each row's plaintext as a Fernet token, in batches, skipping values that already decrypt (a
re-run after an interruption goes on where it stopped).  Reversing it writes the plaintext
back.  A JSON field's plaintext is its JSON text (``json=True`` checks that it parses).
"""

from __future__ import annotations

import json as jsonlib
from typing import Any

from django.db import migrations, models
from django.db.models.functions import Cast

from hardening.crypto.fields import Ciphertext
from hardening.crypto.keys import DecryptionError, decrypt, encrypt

#: Rows per query while a column is rewritten.
BATCH = 500


def _rewrite(apps: Any, label: tuple[str, str], field: str, change: Any) -> None:
    model = apps.get_model(*label)
    manager = model._base_manager
    raw = Cast(field, output_field=models.TextField())
    last: Any = None
    while True:
        rows = manager.order_by("pk").annotate(_raw=raw)
        if last is not None:
            rows = rows.filter(pk__gt=last)
        batch = list(rows.values_list("pk", "_raw")[:BATCH])
        for pk, value in batch:
            new = None if value is None else change(value)
            if new is not None:
                manager.filter(pk=pk).update(**{field: Ciphertext(new)})
        if len(batch) < BATCH:
            return
        last = batch[-1][0]


def _encrypted(value: str) -> bool:
    try:
        decrypt(value)
    except DecryptionError:
        return False
    return True


def encrypt_plaintext(
    app_label: str, model_name: str, field: str, *, json: bool = False
) -> migrations.RunPython:
    """A ``RunPython`` operation that encrypts the plaintext values of ``field``."""

    def forward(value: str) -> str | None:
        if _encrypted(value):
            return None
        if json:
            jsonlib.loads(value)  # a value that is not JSON stops the migration
        return encrypt(value)

    def backward(value: str) -> str | None:
        return decrypt(value) if _encrypted(value) else None

    def run_forward(apps: Any, schema_editor: Any) -> None:
        _rewrite(apps, (app_label, model_name), field, forward)

    def run_backward(apps: Any, schema_editor: Any) -> None:
        _rewrite(apps, (app_label, model_name), field, backward)

    return migrations.RunPython(run_forward, run_backward, elidable=False)
