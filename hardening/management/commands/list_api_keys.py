"""``manage.py list_api_keys [--user USERNAME] [--all]``: the API keys, one per line (never
the keys themselves: only their public ids)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from hardening.apikeys.models import APIKey


def _when(value: Any) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"


class Command(BaseCommand):
    help = "List API keys: public id, owner, scopes, expiry, last use, state."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", help="only this user's keys (username)")
        parser.add_argument("--all", action="store_true", help="include revoked keys")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = APIKey.objects.select_related("user").order_by("created_at", "pk")
        if options["user"]:
            field = get_user_model().USERNAME_FIELD
            rows = rows.filter(**{f"user__{field}": options["user"]})
        if not options["all"]:
            rows = rows.filter(revoked_at__isnull=True)
        self.stdout.write("public_id\towner\tscopes\texpires\tlast_used\tstate")
        for row in rows:
            owner = f"service:{row.service}" if row.service else f"user:{row.user.get_username()}"
            state = "revoked" if row.revoked_at else "active"
            scopes = ",".join(row.scopes) or "-"
            self.stdout.write(
                f"{row.public_id}\t{owner}\t{scopes}\t{_when(row.expires_at)}\t"
                f"{_when(row.last_used_at)}\t{state}"
            )
