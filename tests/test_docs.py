"""Documentation stays in step with the code."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def all_settings() -> dict[str, object]:
    """Every HARDENING_* setting: the declarations of every room's reader."""
    import pkgutil
    from importlib import import_module
    from importlib.util import find_spec

    import hardening
    from hardening.conf import Reader

    for room in pkgutil.iter_modules(hardening.__path__):
        if room.ispkg and find_spec(f"hardening.{room.name}.conf") is not None:
            import_module(f"hardening.{room.name}.conf")
    found: dict[str, object] = {}
    for reader in Reader.readers:
        if reader.__module__.startswith("hardening."):
            found.update(reader.declared())
    return found


def test_every_setting_is_documented_in_the_settings_reference() -> None:
    settings = all_settings()
    assert "HARDENING_RATELIMIT_BANS" in settings and "HARDENING_CACHE" in settings
    reference = (ROOT / "docs" / "settings.md").read_text()
    documented = set(re.findall(r"^### `(HARDENING_\w+)`", reference, re.MULTILINE))
    missing = sorted(set(settings) - documented)
    assert not missing, f"settings missing from docs/settings.md: {missing}"
    gone = sorted(documented - set(settings))
    assert not gone, f"docs/settings.md documents settings that do not exist: {gone}"


def test_at_most_fifty_settings() -> None:
    """Issue 15: half the settings (95 before the redesign); new capabilities fit in."""
    assert len(all_settings()) <= 50, sorted(all_settings())


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
