"""``manage.py lift_ban --ip 203.0.113.7`` / ``--user 42`` / ``--key <public id>``: lift a
rate-limit ban."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hardening.ratelimit.bans import active_bans, identity_for, lift_ban


class Command(BaseCommand):
    help = "Lift a rate-limit ban for a client IP or a user id (or list active bans)."

    def add_arguments(self, parser: CommandParser) -> None:
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--ip", help="client IP address (masked like the limiter masks it)")
        who.add_argument("--user", help="user primary key")
        who.add_argument("--key", help="an API key's public id")
        who.add_argument("--list", action="store_true", help="list active bans (Redis only)")
        parser.add_argument("--forget", action="store_true", help="also reset the escalation level")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            bans = active_bans()
            if bans is None:
                raise CommandError("Listing bans needs a Redis rate-limit cache.")
            for identity, ttl in bans:
                self.stdout.write(f"{identity}\t{ttl}s")
            return
        try:
            identity = identity_for(ip=options["ip"], user=options["user"], key=options["key"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        active = lift_ban(identity, forget=options["forget"], by="manage.py lift_ban")
        state = "lifted" if active else "no active ban; violation count cleared"
        self.stdout.write(f"{identity}: {state}")
