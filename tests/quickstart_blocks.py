"""Apply the code blocks of docs/quickstart.md to a new project, mechanically.

Every fenced block of the page must be one of these (:func:`parse` raises
:class:`UnknownBlock` for any other, so a block added to the page cannot be skipped silently):

* a Python block (```` ```python ````, or ``py``) whose first line is ``# <path>: add at the
  end``, ``# <path>: replace the file`` or ``# <path>: create the file``: applied to that file;
* the one shell block (```` ```sh ````) that starts with ``# production environment``: the
  production variables as ``export NAME=value`` lines (evaluated by bash, so ``$(python -c
  ...)`` generators run);
* a block whose fence directly follows the line ``<!-- quickstart-test: illustration ... -->``
  (a reason may follow the word): shown to the reader, not applied (install commands, curl).

The convention is repeated in an HTML comment at the top of docs/quickstart.md.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

OPENING = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
TARGET = re.compile(
    r"^# (?P<path>[\w./-]+): (?P<how>add at the end|replace the file|create the file)$"
)
ILLUSTRATION = re.compile(r"^<!-- quickstart-test: illustration\b.*-->$")
PYTHON = frozenset({"python", "py", "python3"})
SHELL = frozenset({"sh", "bash", "shell"})
ENVIRONMENT_HEADER = "# production environment"


class UnknownBlock(ValueError):
    """A fenced block that is neither applied, the environment, nor marked an illustration."""


@dataclass
class Fence:
    line: int  # 1-based line of the opening fence
    lang: str
    body: str
    illustration: bool


@dataclass
class Block:
    path: str
    how: str
    code: str


@dataclass
class Page:
    blocks: list[Block] = field(default_factory=list)
    environment: str = ""
    illustrations: list[Fence] = field(default_factory=list)
    fences: int = 0


def fences(markdown: str) -> list[Fence]:
    """Every fenced code block (backticks or tildes, indented up to 3 spaces)."""
    found = []
    lines = markdown.split("\n")
    index = 0
    while index < len(lines):
        opening = OPENING.match(lines[index])
        if opening is None:
            index += 1
            continue
        fence = opening["fence"]
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = next((i for i in range(index + 1, len(lines)) if closing.match(lines[i])), None)
        if end is None:
            raise UnknownBlock(f"line {index + 1}: the fence is never closed")
        previous = next((line for line in reversed(lines[:index]) if line.strip()), "")
        found.append(
            Fence(
                line=index + 1,
                lang=(opening["info"].split() or [""])[0].lower(),
                body="".join(f"{line}\n" for line in lines[index + 1 : end]),
                illustration=ILLUSTRATION.match(previous) is not None,
            )
        )
        index = end + 1
    return found


def parse(markdown: str) -> Page:
    """Sort every fenced block of ``markdown``; raise :class:`UnknownBlock` on any other."""
    page = Page()
    for fence in fences(markdown):
        page.fences += 1
        first = fence.body.split("\n", 1)[0]
        target = TARGET.match(first)
        where = f"line {fence.line} ({fence.lang or 'no language'})"
        if fence.illustration:
            if target or first == ENVIRONMENT_HEADER:
                raise UnknownBlock(f"{where}: marked an illustration but names what to apply")
            page.illustrations.append(fence)
        elif fence.lang in PYTHON and target:
            page.blocks.append(Block(target["path"], target["how"], fence.body))
        elif fence.lang in SHELL and first == ENVIRONMENT_HEADER:
            if page.environment:
                raise UnknownBlock(f"{where}: a second {ENVIRONMENT_HEADER!r} block")
            page.environment = fence.body
        else:
            raise UnknownBlock(
                f"{where}: starts with neither '# <path>: add at the end | replace the file | "
                f"create the file' (python) nor {ENVIRONMENT_HEADER!r} (sh), and is not marked "
                "<!-- quickstart-test: illustration -->"
            )
    return page


def apply(markdown: str, project: Path) -> list[str]:
    """Apply every file block to ``project``; return the paths touched, in order."""
    touched = []
    for block in parse(markdown).blocks:
        target = project / block.path
        if block.how == "add at the end":
            assert target.exists(), f"{block.path} should exist before adding to it"
            target.write_text(target.read_text() + "\n\n" + block.code)
        else:
            assert (block.how == "create the file") != target.exists(), block
            target.write_text(block.code)
        touched.append(block.path)
    return touched


def production_environment(markdown: str, python_bin: Path) -> dict[str, str]:
    """The variables of the ``# production environment`` block, evaluated by bash."""
    body = parse(markdown).environment
    names = re.findall(r"^export (\w+)=", body, re.MULTILINE)
    assert names and all(line.startswith(("#", "export ")) for line in body.splitlines() if line), (
        body
    )
    script = f'PATH="{python_bin}:$PATH"\n{body}\n' + "".join(
        f'printf "%s\\0" "{name}=${{{name}}}"\n' for name in names
    )
    out = subprocess.run(
        ["bash", "-euc", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    pairs = (item.split("=", 1) for item in out.split("\0") if item)
    return {pair[0]: pair[1] for pair in pairs}
