"""The snippets of docs/headers.md and docs/observability.md users copy run as written."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from hardening.deploy.order import misplaced
from hardening.headers.csp import DEFAULT_CSP
from tests.helpers.docs import doc_block


def run(page: str, heading: str, **namespace: Any) -> dict[str, Any]:
    exec(doc_block(page, heading), namespace)  # noqa: S102 - our own docs
    return namespace


def test_the_middleware_snippet_is_the_example_projects_order() -> None:
    namespace = run("headers.md", "Using it")
    middleware = [m for m in namespace["MIDDLEWARE"] if m is not Ellipsis]
    assert misplaced(middleware) is None
    assert [m for m in settings.MIDDLEWARE if m in middleware] == middleware
    assert namespace["SECURE_CSP"] == DEFAULT_CSP == settings.SECURE_CSP
