"""The health snippets users copy (docs/health.md) run as written and mean what the text
around them says."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connections
from django.test import override_settings

from hardening.health.plan import readiness_checks
from hardening.health.probes import check_name
from tests.helpers.checks import check_error_codes, production
from tests.helpers.docs import doc_block


def run(heading: str, **namespace: Any) -> dict[str, Any]:
    exec(doc_block("health.md", heading), namespace)  # noqa: S102 - our own docs
    return namespace


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_the_checks_snippet_builds_and_passes_the_checks() -> None:
    entries = run("Choosing the checks")["HARDENING_HEALTH_CHECKS"]
    databases = {name: connections.settings[name] for name in connections.settings}
    databases["replica"] = databases["default"]
    with override_settings(DATABASES=databases, HARDENING_HEALTH_CHECKS=entries):
        checks = readiness_checks()
    assert [check_name(c) for c in checks] == [
        "database",
        "database:replica",
        "migrations",
        "cache",
        "disk",
        "jwks",
        "storage",
    ]
    assert checks[1].critical is False and checks[5].critical is False
    assert (checks[4].paths, checks[4].max_percent, checks[4].warn_percent) == (["/data"], 95, 85)
    with production(DATABASES=databases, HARDENING_HEALTH_CHECKS=entries):
        found = check_error_codes()
    assert not [code for code in found if code[10:12] in ("E5", "W5")], found
