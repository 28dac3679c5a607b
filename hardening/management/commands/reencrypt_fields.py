"""Re-encrypt every encrypted value with the newest key of HARDENING_FIELD_ENCRYPTION_KEYS:
each ``EncryptedTextField`` / ``EncryptedJSONField`` of every model, and the ciphertext
columns of ``hardening.crypto.CIPHERTEXT_COLUMNS`` (the TOTP secrets).

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it),
deploy, run this command, then remove the old keys.  It works in batches (``--batch-size``
rows per transaction, locked while they are rewritten) and is resumable: run it again after
an interruption, and rows already under the newest key are skipped (one trial decryption
each).  ``reencrypt_mfa_secrets`` is the same command under its earlier name.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.db.models.functions import Cast

from hardening import crypto
from hardening.crypto.fields import Ciphertext, is_encrypted


def encrypted_columns() -> Iterator[tuple[type[models.Model], list[str]]]:
    """``(model, [attname...])`` for every model with encrypted values."""
    extra: dict[str, list[str]] = {}
    for label, name in crypto.CIPHERTEXT_COLUMNS:
        extra.setdefault(label.lower(), []).append(name)
    for model in apps.get_models():
        names = [f.attname for f in model._meta.concrete_fields if is_encrypted(f)]
        names += extra.get(model._meta.label_lower, [])
        if names:
            yield model, names


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field with the first (newest) field-encryption key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only count the values.")
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction.")

    def handle(self, *args: Any, **options: Any) -> None:
        stale = failed = 0
        size = max(1, int(options["batch_size"]))
        for model, names in encrypted_columns():
            found, bad = self._model(model, names, size, dry_run=options["dry_run"])
            if found:
                self.stdout.write(f"{model._meta.label}: {found - bad} value(s); {bad} failed.")
            stale, failed = stale + found, failed + bad
        verb = "need re-encryption" if options["dry_run"] else "re-encrypted"
        self.stdout.write(f"{stale - failed} secret(s) {verb}; {failed} undecryptable.")
        if failed:
            raise CommandError(f"{failed} secret(s) decrypt with no configured key.")

    def _model(
        self, model: type[models.Model], names: list[str], size: int, *, dry_run: bool
    ) -> tuple[int, int]:
        manager = model._base_manager
        raw = {f"_raw_{n}": Cast(n, output_field=models.TextField()) for n in names}
        stale = failed = 0
        last: Any = None
        while True:
            with transaction.atomic():
                rows = manager.order_by("pk")
                if last is not None:
                    rows = rows.filter(pk__gt=last)
                batch = list(
                    rows.select_for_update().annotate(**raw).values_list("pk", *raw)[:size]
                )
                for pk, *values in batch:
                    changes: dict[str, Any] = {}
                    for name, value in zip(names, values, strict=True):
                        if value is None or not crypto.needs_rotation(value):
                            continue
                        stale += 1
                        try:
                            changes[name] = Ciphertext(crypto.rotate(value))
                        except crypto.DecryptionError:
                            failed += 1
                    if changes and not dry_run:
                        manager.filter(pk=pk).update(**changes)
            if len(batch) < size:
                return stale, failed
            last = batch[-1][0]
