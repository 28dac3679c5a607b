"""The snippets of docs/ that users copy, for the tests that run them."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def doc_block(page: str, heading: str, language: str = "python") -> str:
    """The first ``language`` block under the heading ``heading`` (any level) of
    ``docs/<page>``."""
    text = (DOCS / page).read_text()
    found = re.search(rf"^#+ {re.escape(heading)}\n", text, re.MULTILINE)
    assert found, f"no heading {heading!r} in docs/{page}"
    section = text[found.end() :]
    match = re.search(rf"^```{language}\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert match, f"no {language} block under {heading!r} in docs/{page}"
    return match.group(1)
