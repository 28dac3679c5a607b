"""The extractor behind tests/test_quickstart.py (fast: no wheel, no server).

It must refuse every fenced block of docs/quickstart.md it would not apply, unless the page
marks the block an illustration, so the page cannot grow a block the slow test never runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.quickstart_blocks import UnknownBlock, apply, parse

DOC = Path(__file__).resolve().parent.parent / "docs" / "quickstart.md"
ENVIRONMENT = "```sh\n# production environment\nexport A=1\n```\n"


def test_every_block_of_the_quickstart_is_applied_or_marked() -> None:
    markdown = DOC.read_text()
    page = parse(markdown)
    # Counted independently of the parser: every fence line opens or closes a block.
    assert page.fences == len(re.findall(r"^ {0,3}```", markdown, re.MULTILINE)) // 2
    assert page.fences == len(page.blocks) + 1 + len(page.illustrations)
    assert page.environment.startswith("# production environment\n")
    assert [b.path for b in page.blocks][:2] == ["mysite/settings.py", "mysite/urls.py"]
    convention = markdown[: markdown.index("-->")]  # the page's opening HTML comment
    assert markdown.startswith("<!--") and "quickstart-test: illustration" in convention


@pytest.mark.parametrize(
    "block",
    [
        "```python\nimport os\n```\n",  # python without a target line
        "```py\nprint(1)\n```\n",  # ... also as py
        "```python\n# mysite/x.py: append\nA = 1\n```\n",  # an unknown way to apply
        "```sh\npip install x\n```\n",  # a shell block that is not the environment
        "```\nplain\n```\n",  # no language
        "```text\nanything\n```\n",
        "~~~python\nimport os\n~~~\n",  # tildes are fences too
        "1. a step\n\n   ```python\n   import os\n   ```\n",  # indented in a list
        "<!-- quickstart-test: illustration -->\n```python\n# mysite/x.py: create the file\n```\n",
        ENVIRONMENT,  # a second environment block
        "```python\n# mysite/x.py: create the file\n",  # never closed
    ],
)
def test_a_block_it_does_not_understand_fails(block: str) -> None:
    with pytest.raises(UnknownBlock):
        parse(f"{ENVIRONMENT}\ntext\n\n{block}")


def test_blocks_are_applied_and_illustrations_are_not(tmp_path: Path) -> None:
    markdown = (
        f"{ENVIRONMENT}\n"
        "```py\n# app/a.py: create the file\nA = 1\n```\n\n"
        "<!-- quickstart-test: illustration (the reader's own command) -->\n\n"
        "```sh\ncurl -s https://example.com\n```\n\n"
        "```python\n# app/a.py: add at the end\nB = 2\n```\n"
    )
    (tmp_path / "app").mkdir()
    page = parse(markdown)
    assert (page.fences, len(page.illustrations)) == (4, 1)
    assert apply(markdown, tmp_path) == ["app/a.py", "app/a.py"]
    assert (tmp_path / "app" / "a.py").read_text() == (
        "# app/a.py: create the file\nA = 1\n\n\n# app/a.py: add at the end\nB = 2\n"
    )
