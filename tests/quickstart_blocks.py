"""Apply the code blocks of docs/quickstart.md to a new project, mechanically.

A Python block whose first line is ``# <path>: add at the end``, ``# <path>: replace the
file`` or ``# <path>: create the file`` is applied to that file; the block that starts with
``# production environment`` lists the production variables as ``export NAME=value`` lines
(evaluated by bash, so ``$(python -c ...)`` generators run).  Nothing else is read.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
TARGET = re.compile(
    r"^# (?P<path>[\w./-]+): (?P<how>add at the end|replace the file|create the file)$"
)


@dataclass
class Block:
    path: str
    how: str
    code: str


def blocks(markdown: str) -> list[Block]:
    found = []
    for lang, body in FENCE.findall(markdown):
        first = body.split("\n", 1)[0]
        match = TARGET.match(first)
        if lang == "python" and match:
            found.append(Block(match["path"], match["how"], body))
    return found


def apply(markdown: str, project: Path) -> list[str]:
    """Apply every file block to ``project``; return the paths touched, in order."""
    touched = []
    for block in blocks(markdown):
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
    body = next(
        body
        for lang, body in FENCE.findall(markdown)
        if lang == "sh" and body.startswith("# production environment\n")
    )
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
