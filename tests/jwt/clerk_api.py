"""A loopback server that answers like Clerk's Backend API verify endpoints
(``/v1/api_keys/verify``, ``/v1/m2m_tokens/verify``,
``/v1/oauth_applications/access_tokens/verify``): the only thing the machine-token tests
mock, at the HTTP boundary."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET_KEY = "sk_test_machine_tests_0123456789abcdefghijklmnop"
FIELDS = {
    "/v1/api_keys/verify": "secret",
    "/v1/m2m_tokens/verify": "token",
    "/v1/oauth_applications/access_tokens/verify": "access_token",
}


def answer(token_id: str, subject: str, **extra: Any) -> dict[str, Any]:
    """A valid verify answer as Clerk sends it."""
    now_ms = int(time.time() * 1000)
    return {
        "object": "api_key",
        "id": token_id,
        "type": "api_key",
        "subject": subject,
        "name": "ci",
        "claims": None,
        "scopes": [],
        "revoked": False,
        "revocation_reason": None,
        "expired": False,
        "expiration": None,
        "created_by": None,
        "last_used_at": None,
        "created_at": now_ms,
        "updated_at": now_ms,
        **extra,
    }


class ClerkAPI:
    """``tokens``: token -> answer (missing: 404 like Clerk); ``status``: force a status;
    ``raw``: answer exactly ``(status, body)`` (a broken or oversized answer)."""

    def __init__(self) -> None:
        self.tokens: dict[str, dict[str, Any]] = {}
        self.status: int | None = None
        self.raw: tuple[int, bytes] | None = None
        self.delay = 0.0
        self.requests: list[tuple[str, dict[str, Any], str]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with server.lock:
                    server.requests.append((self.path, body, self.headers["Authorization"]))
                if server.delay:
                    time.sleep(server.delay)
                field = FIELDS.get(self.path)
                token = body.get(field) if field else None
                if server.status is not None:
                    status, payload = server.status, {"errors": [{"code": "internal"}]}
                elif self.headers.get("Authorization") != f"Bearer {SECRET_KEY}":
                    status, payload = 401, {"errors": [{"code": "authentication_invalid"}]}
                elif field is None or token not in server.tokens:
                    status, payload = 404, {"errors": [{"code": "resource_not_found"}]}
                else:
                    status, payload = 200, server.tokens[token]
                data = json.dumps(payload).encode()
                if server.raw is not None:
                    status, data = server.raw
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)  # an oversized answer: the client hangs up

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> ClerkAPI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
