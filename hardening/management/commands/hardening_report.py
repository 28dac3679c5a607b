"""``manage.py hardening_report [--format text|json] [--fail-under N]``: score this
deployment (system checks, the headers it sends, its services, MFA coverage of staff
accounts, secret hygiene); with ``--fail-under`` it exits 1 below ``N`` (a CI gate).
See docs/report.md."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hardening.deploy import report


class Command(BaseCommand):
    help = "Score this deployment out of 100, one line per finding with its fix."
    requires_system_checks: list[str] = []  # the report runs them itself

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=("text", "json"), default="text")
        parser.add_argument(
            "--fail-under",
            type=int,
            metavar="N",
            help="exit with status 1 when the score is below N (0-100)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = report.build()
        if options["format"] == "json":
            self.stdout.write(json.dumps(result.as_dict(), indent=2))
        else:
            self.stdout.write(report.as_text(result))
        threshold = options["fail_under"]
        if threshold is not None and result.score < threshold:
            raise CommandError(f"score {result.score} is below {threshold}", returncode=1)
