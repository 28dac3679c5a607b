"""JSON requests through Django's test client."""

from __future__ import annotations

import json
from typing import Any

from django.test import AsyncClient, Client


def post_json(client: Client, path: str, body: Any, **headers: str) -> Any:
    """POST ``body`` as JSON (a ``str`` is sent as is: hostile bodies)."""
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", headers=headers)


async def apost_json(client: AsyncClient, path: str, body: Any, **headers: str) -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return await client.post(path, data=data, content_type="application/json", headers=headers)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
