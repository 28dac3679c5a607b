"""``manage.py revoke_api_key <public id>``: revoke an API key at once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hardening.apikeys.keys import revoke
from hardening.apikeys.models import APIKey


class Command(BaseCommand):
    help = "Revoke an API key by its public id (the third part of the key)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("public_id")

    def handle(self, *args: Any, **options: Any) -> None:
        row = APIKey.objects.filter(public_id=options["public_id"]).first()
        if row is None:
            raise CommandError(f"No API key {options['public_id']!r}.")
        revoked = revoke(row, by="manage.py revoke_api_key")
        self.stdout.write(f"{row.public_id}: {'revoked' if revoked else 'already revoked'}")
