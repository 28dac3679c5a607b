"""Re-encrypt every TOTP secret with the newest key of HARDENING_FIELD_ENCRYPTION_KEYS.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it),
deploy, run this command, then remove the old keys.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from hardening import crypto
from hardening.mfa.models import TOTPDevice


class Command(BaseCommand):
    help = "Re-encrypt MFA secrets with the first (newest) field-encryption key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only count the secrets.")

    def handle(self, *args: Any, **options: Any) -> None:
        stale = failed = 0
        for pk in TOTPDevice.objects.order_by("pk").values_list("pk", flat=True).iterator():
            with transaction.atomic():
                device = TOTPDevice.objects.select_for_update().filter(pk=pk).first()
                if device is None or not crypto.needs_rotation(device.encrypted_secret):
                    continue
                stale += 1
                if options["dry_run"]:
                    continue
                try:
                    device.encrypted_secret = crypto.rotate(device.encrypted_secret)
                except crypto.DecryptionError:
                    failed += 1
                    continue
                device.save(update_fields=["encrypted_secret"])
        verb = "need" if options["dry_run"] else "re-encrypted"
        self.stdout.write(f"{stale - failed} secret(s) {verb}; {failed} undecryptable.")
        if failed:
            raise CommandError(f"{failed} secret(s) decrypt with no configured key.")
