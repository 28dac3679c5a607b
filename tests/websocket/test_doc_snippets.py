"""The snippets of docs/websocket.md are the example's code or run as written (the client
snippet runs against uvicorn in test_server.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hardening.ratelimit.policy import parse_policies
from hardening.websocket.checks import guarded
from tests.helpers.docs import doc_block

EXAMPLE = Path(__file__).resolve().parents[2] / "example_project"


def test_the_wiring_snippet_is_the_example_asgi_module() -> None:
    assert doc_block("websocket.md", "Wiring") in (EXAMPLE / "asgi.py").read_text()


def test_the_consumer_snippet_is_the_example_consumer() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "websocket.md").read_text()
    start = text.index("```python\nclass EchoConsumer")
    block = text[start + len("```python\n") : text.index("```", start + 3)]
    assert block in (EXAMPLE / "consumers.py").read_text()


def test_the_router_snippet_guards_every_route() -> None:
    from example_project.consumers import websocket_urlpatterns

    text = (Path(__file__).resolve().parents[2] / "docs" / "websocket.md").read_text()
    start = text.index("```python\nfrom channels.routing import ProtocolTypeRouter")
    block = text[start + len("```python\n") : text.index("```", start + 3)]
    namespace: dict[str, Any] = {
        "django_application": object(),
        "websocket_urlpatterns": websocket_urlpatterns,
    }
    exec(block, namespace)  # noqa: S102 - our own docs
    assert guarded(namespace["application"].application_mapping["websocket"])


def test_the_connect_policy_snippet_limits_websocket_connects() -> None:
    namespace: dict[str, Any] = {}
    exec(doc_block("websocket.md", "Rate limits on connects"), namespace)  # noqa: S102
    policies = {p.name: p for p in parse_policies(namespace["HARDENING_RATELIMIT_POLICIES"])}
    assert policies["websocket"].matches("/ws/echo", "GET")
    assert not policies["websocket"].matches("/api/me", "GET")
