"""The test suite's own house rules (issue 15): one fake clock, shared helpers in
tests/helpers/ (or a room's ``helpers`` module), never imported from a test module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text())) for path in sorted(TESTS.rglob("*.py"))]


def test_no_module_imports_from_a_test_module_or_a_conftest() -> None:
    offenders = []
    for path, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                last = name.rsplit(".", 1)[-1]
                if name.startswith("tests.") and (last.startswith("test_") or last == "conftest"):
                    offenders.append(f"{path.relative_to(TESTS)}: {name}")
    assert not offenders, offenders


def test_one_fake_clock() -> None:
    """tests/helpers/clock.py is the only fake clock and the only code that replaces
    ``hardening.clock`` (the package's one clock seam)."""
    offenders = []
    for path, tree in modules():
        if path == TESTS / "helpers" / "clock.py":
            continue
        text = path.read_text()
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and "Clock" in node.name:
                offenders.append(f"{path.relative_to(TESTS)}: class {node.name}")
        if re.search(r"setattr\([^)]*[\"'](?:time\.)?(now|monotonic|time)[\"']", text):
            offenders.append(f"{path.relative_to(TESTS)}: patches a clock")
    assert not offenders, offenders


def test_every_imported_test_helper_module_exists() -> None:
    """Imports inside functions run only with their test (a browser or server test that is
    skipped here): a helper module moved away must not be found only on CI."""
    from importlib.util import find_spec

    missing = []
    for path, tree in modules():
        for node in ast.walk(tree):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if module and module.startswith("tests.") and find_spec(module) is None:
                missing.append(f"{path.relative_to(TESTS)}: {module}")
    assert not missing, missing
