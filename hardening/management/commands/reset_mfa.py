"""Reset a user's MFA (lost device): delete devices, recovery codes and pending logins.

Do the identity proofing your policy requires first (ASVS 6.4.4).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hardening.mfa.reset import reset_mfa


class Command(BaseCommand):
    help = "Delete a user's MFA devices and recovery codes (records an mfa.reset event)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The user's USERNAME_FIELD value.")

    def handle(self, *args: Any, **options: Any) -> None:
        model = get_user_model()
        user = model._default_manager.filter(**{model.USERNAME_FIELD: options["username"]}).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        removed = reset_mfa(user.pk, via="command")
        self.stdout.write(f"MFA reset for {options['username']}: {removed} device(s) removed.")
