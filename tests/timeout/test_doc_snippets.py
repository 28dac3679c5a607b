"""The timeout snippets users copy (docs/timeouts.md, the module docstrings of
``hardening.timeout.deadline`` and ``hardening.timeout.http``) run as written, and do what
the text around them says."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from hardening.timeout import DeadlineExceeded, deadline, deadline_scope, http
from tests.timeout.upstream import SilentServer, answering_upstream, silent_upstream

pytestmark = pytest.mark.timeout(60)

DOC = Path(__file__).resolve().parents[2] / "docs" / "timeouts.md"


def doc_block(heading: str) -> str:
    """The first ``python`` block under ``heading`` in docs/timeouts.md."""
    text = DOC.read_text()
    section = text[text.index(f"\n## {heading}\n") :]
    match = re.search(r"^```python\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert match, heading
    return match.group(1)


def docstring_block(doc: str | None) -> str:
    """The indented block after the first ``::`` of a docstring."""
    assert doc
    after = doc.split("::\n", 1)[1]
    lines = []
    for line in after.splitlines():
        if line and not line.startswith(" "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines))


@pytest.fixture(scope="module")
def silent() -> Iterator[SilentServer]:
    with silent_upstream() as server:
        yield server


@pytest.fixture(scope="module")
def answering() -> Iterator[str]:
    with answering_upstream() as url:
        yield url


def run(code: str, **names: Any) -> dict[str, Any]:
    """Execute ``code`` with ``names`` defined; close the clients it made, even if it
    raised."""
    namespace: dict[str, Any] = {"__name__": "snippet", **names}
    try:
        exec(compile(code, "<snippet>", "exec"), namespace)  # noqa: S102 - our own docs
    finally:
        for value in list(namespace.values()):
            if isinstance(value, httpx.AsyncClient):
                asyncio.run(value.aclose())
            elif isinstance(value, (httpx.Client, requests.Session)):
                value.close()
    return namespace


@contextlib.contextmanager
def after_the_deadline() -> Iterator[None]:
    """A deadline that has already passed."""
    with deadline_scope(5) as scope:
        scope.set_budget(0)
        yield


@pytest.mark.django_db
def test_using_the_deadline_in_your_code(silent: SilentServer) -> None:
    done: list[int] = []
    names = run(doc_block("Using the deadline in your code"), items=[1, 2], work=done.append)
    names["rebuild"](None)
    assert done == [1, 2]
    with after_the_deadline(), pytest.raises(DeadlineExceeded):
        names["rebuild"](None)
    assert deadline.view_budget(names["upload"]) == (True, 300)
    assert deadline.view_budget(names["export"]) == (True, None)
    proxy = names["proxy"]
    names["url"] = silent.url
    # The outgoing call waits no longer than the time left ...
    started = time.monotonic()
    with deadline_scope(0.3), pytest.raises(httpx.ReadTimeout):
        proxy(None)
    assert time.monotonic() - started < 1.5
    # ... and once the deadline has passed it is not made at all (not a 10 s wait).
    started = time.monotonic()
    with after_the_deadline(), pytest.raises(DeadlineExceeded):
        proxy(None)
    assert time.monotonic() - started < 1
    assert not silent.accepted[1:]  # one connection: the call within the deadline


def test_outgoing_http(answering: str) -> None:
    code = doc_block("Outgoing HTTP")
    with deadline_scope(5):
        run(code, url=answering)
    run(code, url=answering)  # outside a request: the callers' own timeouts
    with after_the_deadline(), pytest.raises(DeadlineExceeded):
        run(code, url=answering)


class Recorder:
    """``httpx`` for the docstring: records the timeout it is given."""

    def __init__(self) -> None:
        self.timeouts: list[Any] = []

    def get(self, url: str, *, timeout: Any) -> None:
        self.timeouts.append(timeout)


def test_deadline_module_docstring(monkeypatch: pytest.MonkeyPatch) -> None:
    code = docstring_block(deadline.__doc__)
    fake = Recorder()
    monkeypatch.setitem(sys.modules, "httpx", fake)
    processed: list[int] = []
    run(code, batch=[1, 2], process=processed.append, url="http://unused/")
    with deadline_scope(5):
        run(code, batch=[3], process=processed.append, url="http://unused/")
    assert processed == [1, 2, 3]
    assert fake.timeouts[0] == 10
    assert 4 < fake.timeouts[1] <= 5
    with after_the_deadline(), pytest.raises(DeadlineExceeded):
        run(code, batch=[], process=processed.append, url="http://unused/")
    assert len(fake.timeouts) == 2


def test_http_module_docstring(answering: str) -> None:
    names = run(docstring_block(http.__doc__), url=answering)
    assert isinstance(names["client"], httpx.Client)
    with after_the_deadline(), pytest.raises(DeadlineExceeded):
        run(docstring_block(http.__doc__), url=answering)


def test_every_python_block_of_the_page_compiles() -> None:
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(), re.MULTILINE | re.DOTALL)
    assert len(blocks) >= 4
    for block in blocks:
        compile(block, "<docs/timeouts.md>", "exec")
