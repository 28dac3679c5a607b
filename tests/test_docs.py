"""Documentation stays in step with the code."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented() -> None:
    conf = "\n".join(p.read_text() for p in (ROOT / "hardening" / "conf").glob("*.py"))
    settings = set(re.findall(r"def (HARDENING_\w+)\(self\)", conf))
    assert len(settings) > 20
    readers = "\n".join(p.read_text() for p in (ROOT / "hardening").glob("*/conf.py"))
    settings |= set(re.findall(r"^    (HARDENING_\w+) = setting\b", readers, re.MULTILINE))
    assert "HARDENING_RATELIMIT_BANS" in settings  # the rooms' readers are read too
    docs = "\n".join(page.read_text() for page in (ROOT / "docs").glob("*.md"))
    missing = sorted(name for name in settings if name not in docs)
    assert not missing, f"settings missing from docs/: {missing}"


def test_every_capability_has_a_changelog_line() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text().lower()
    for word in ("jwt", "mfa", "rate limit", "timeout", "health", "x-request-id", "benchmark"):
        assert word in changelog, word


def test_readme_commands_are_the_ones_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = next(
        line
        for line in readme.splitlines()
        if line.startswith("python3 -m venv") and "pytest" in line
    )
    assert test_command in ci
