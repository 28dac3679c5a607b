"""docs/api.md, the package and the examples in docs/ hold one another (issue 15).

``PUBLIC`` (tests/helpers/api.py) is the public surface: each public module and exactly the
names of its ``__all__``.  docs/api.md must list the same modules and names; every name
imports; no other module of the package defines ``__all__`` (internal modules do not); every
example in docs/ imports (or names in a dotted string) only public names.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from importlib import import_module
from pathlib import Path

import pytest

from tests.helpers.api import PUBLIC

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
API = (DOCS / "api.md").read_text()


def documented() -> dict[str, set[str]]:
    """``{module: names}`` from docs/api.md: each ``## `hardening.x` `` section's table."""
    found: dict[str, set[str]] = {}
    sections = re.split(r"^## ", API, flags=re.MULTILINE)[1:]
    for section in sections:
        heading, _, body = section.partition("\n")
        match = re.fullmatch(r"`(hardening(?:\.\w+)*)`", heading.strip())
        if match is None:
            continue
        names = re.findall(r"^\| `(\w+)` \|", body, re.MULTILINE)
        assert names, f"no names listed under {heading}"
        assert len(names) == len(set(names)), f"a name is listed twice under {heading}"
        found[match.group(1)] = set(names)
    return found


def section(title: str) -> str:
    found = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", API, re.MULTILINE | re.DOTALL)
    assert found, title
    return found.group(1)


def test_the_page_lists_exactly_the_public_surface() -> None:
    assert documented() == {module: set(names) for module, names in PUBLIC.items()}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_every_public_name_imports_and_is_the_modules_all(module: str) -> None:
    imported = import_module(module)
    assert sorted(imported.__all__) == sorted(PUBLIC[module])
    for name in PUBLIC[module]:
        assert hasattr(imported, name), f"{module}.{name}"


def test_internal_modules_define_no_all() -> None:
    """``__all__`` marks a public module: an internal one with it would look public."""
    offenders = []
    for path in sorted((ROOT / "hardening").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if module in PUBLIC:
            continue
        for node in ast.parse(path.read_text()).body:
            targets = node.targets if isinstance(node, ast.Assign) else []
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                offenders.append(module)
    assert not offenders, f"internal modules with __all__: {offenders}"


def test_the_page_lists_every_url_name() -> None:
    from django.urls import get_resolver

    import hardening.urls

    assert hardening.urls.app_name == "hardening"
    names = {
        pattern.name for pattern in get_resolver("hardening.urls").url_patterns if pattern.name
    }
    listed = set(re.findall(r"^\| `([\w-]+)` \|", section("URL names"), re.MULTILINE))
    assert listed == names


def test_the_page_lists_every_request_state_field() -> None:
    from hardening.request import RequestState

    fields = {field.name for field in dataclasses.fields(RequestState)}
    fields |= {name for name, value in vars(RequestState).items() if isinstance(value, property)}
    listed = set(re.findall(r"^\| `(\w+)` \|", section("`request.hardening`"), re.MULTILINE))
    assert listed == fields


def examples() -> list[tuple[str, str]]:
    """``(page, code)`` for every ```python block of docs/."""
    found = []
    for page in sorted(DOCS.glob("*.md")):
        for block in re.findall(r"^```python\n(.*?)^```", page.read_text(), re.M | re.S):
            found.append((page.name, block))
    return found


def imported_names(code: str) -> list[tuple[str, str]]:
    """``(module, name)`` for each ``from hardening... import`` / dotted string in ``code``."""
    found = []
    for module, names in re.findall(r"from (hardening(?:\.\w+)*) import (\([^)]*\)|[^\n#]+)", code):
        for name in re.findall(r"\w+", re.sub(r"\bas \w+", "", names)):
            found.append((module, name))
    for module in re.findall(r"^\s*import (hardening(?:\.\w+)*)", code, re.MULTILINE):
        found.append((module, ""))
    for dotted in re.findall(r"[\"'](hardening(?:\.\w+)+)[\"']", code):
        if re.fullmatch(r"hardening\.[EWI]\d+", dotted):  # a check id
            continue
        if dotted in PUBLIC:
            found.append((dotted, ""))
        else:
            module, _, name = dotted.rpartition(".")
            found.append((module, name))
    return found


def test_examples_import_only_public_names() -> None:
    blocks = examples()
    assert len(blocks) > 20
    seen = []
    private = []
    for page, code in blocks:
        for module, name in imported_names(code):
            seen.append((module, name))
            if module not in PUBLIC or (name and name not in PUBLIC[module]):
                private.append(f"{page}: {module} {name}".strip())
    assert ("hardening.env", "Env") in seen
    assert not private, private


def test_the_import_scanner_sees_private_names() -> None:
    code = (
        "from hardening.env import (\n    Env,\n    logging_config,\n)\n"
        "from hardening.jwt.keys import KeyStore  # noqa\n"
        'MIDDLEWARE = ["hardening.ratelimit.middleware.RateLimitMiddleware"]\n'
        'SILENCED_SYSTEM_CHECKS = ["hardening.W304"]\n'
    )
    assert imported_names(code) == [
        ("hardening.env", "Env"),
        ("hardening.env", "logging_config"),
        ("hardening.jwt.keys", "KeyStore"),
        ("hardening.ratelimit.middleware", "RateLimitMiddleware"),
    ]
