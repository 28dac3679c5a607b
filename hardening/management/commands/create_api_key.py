"""``manage.py create_api_key --user USERNAME --scopes a,b [--expires DAYS]``: print a new
API key (and nothing else: ``KEY=$(manage.py create_api_key ...)`` works)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hardening.apikeys.keys import create_key


class Command(BaseCommand):
    help = "Create an API key for a user or a named service and print it (shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        owner = parser.add_mutually_exclusive_group(required=True)
        owner.add_argument("--user", help="the owner's username")
        owner.add_argument("--service", help="the owner, when it is a service, not a user")
        parser.add_argument("--scopes", default="", help="comma-separated scopes")
        parser.add_argument("--expires", type=int, help="days until the key expires")
        parser.add_argument("--name", default="", help="a label for the key")

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            model = get_user_model()
            user = model._default_manager.filter(**{model.USERNAME_FIELD: options["user"]}).first()
            if user is None:
                raise CommandError(f"No user {options['user']!r}.")
        days = options["expires"]
        if days is not None and days <= 0:
            raise CommandError("--expires takes a number of days above 0.")
        try:
            _, key = create_key(
                user=user,
                service=options["service"] or "",
                scopes=options["scopes"].split(","),
                name=options["name"],
                expires_in=timedelta(days=days) if days else None,
                by="manage.py create_api_key",
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(key)
