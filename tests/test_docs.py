"""Documentation stays in step with the code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hardening.conf import Reader

ROOT = Path(__file__).resolve().parent.parent


def readers() -> list[type[Reader]]:
    """Every room's settings reader (each room's ``conf`` module imported)."""
    import pkgutil
    from importlib import import_module
    from importlib.util import find_spec

    import hardening
    from hardening.conf import Reader

    for room in pkgutil.iter_modules(hardening.__path__):
        if room.ispkg and find_spec(f"hardening.{room.name}.conf") is not None:
            import_module(f"hardening.{room.name}.conf")
    return [reader for reader in Reader.readers if reader.__module__.startswith("hardening.")]


def all_settings() -> dict[str, object]:
    """Every HARDENING_* setting: the declarations of every room's reader."""
    found: dict[str, object] = {}
    for reader in readers():
        found.update(reader.declared())
    return found


def removed_settings() -> dict[str, str]:
    """Every removed setting (``hardening.E032``) and what replaces it."""
    found: dict[str, str] = {}
    for reader in readers():
        found.update(vars(reader).get("removed", {}))
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


def migration_table(title: str) -> list[tuple[str, str]]:
    """``(before, now)`` rows of a table of CHANGELOG.md's "Migrating from 0.0.x"."""
    changelog = (ROOT / "CHANGELOG.md").read_text()
    unreleased = changelog.split("\n## ", 2)[1]
    assert unreleased.startswith("Unreleased")
    migrating = unreleased.split("### Migrating from 0.0.x\n", 1)[1].split("\n### ", 1)[0]
    table = migrating.split(f"**{title}**", 1)[1].split("\n\n", 2)[1]
    rows = re.findall(r"^\| (.+?) \| (.+?) \|$", table, re.MULTILINE)
    assert rows[0] == ("0.0.x", "Now"), rows[0]
    return [row for row in rows[1:] if not set(row[0]) <= {"-", "|"}]


def test_the_migration_table_names_every_removed_setting() -> None:
    removed = removed_settings()
    assert "HARDENING_CLERK_ISSUER" in removed and "HARDENING_RATELIMIT_CACHE" in removed
    listed = {before.strip("`") for before, _now in migration_table("Settings")}
    assert listed == set(removed)


def test_the_migration_table_points_at_what_exists() -> None:
    from django.urls import get_resolver

    from tests.helpers.api import PUBLIC

    names = {p.name for p in get_resolver("hardening.urls").url_patterns if p.name}
    for before, now in migration_table("URL names"):
        assert now.strip("`").removeprefix("hardening:") in names, before
    renamed = 0
    for _before, now in migration_table("Import paths"):
        target = re.match(r"`(hardening(?:\.\w+)+)`", now)
        if target is None:
            continue
        module, _, name = target.group(1).rpartition(".")
        if module in PUBLIC:
            assert name in PUBLIC[module], now
            renamed += 1
    assert renamed > 30


def test_ci_gates_branch_coverage_around_the_readme_command() -> None:
    """.ci/run measures the README's own test command (docs/testing.md, "Coverage")."""
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    command = next(
        line
        for line in readme.splitlines()
        if line.startswith("python3 -m venv") and "pytest" in line
    )
    start = ci.index('export PYTEST_ADDOPTS="-p tests.coverage_plugin"')
    assert start < ci.index(command) < ci.index("unset PYTEST_ADDOPTS")
    assert ci.index(command) < ci.index(".venv/bin/coverage report")
    pyproject = (ROOT / "pyproject.toml").read_text()
    gate = re.search(r"^fail_under = ([\d.]+)$", pyproject, re.MULTILINE)
    assert gate is not None and float(gate.group(1)) >= 90
    assert re.search(r"^branch = true$", pyproject, re.MULTILINE)
