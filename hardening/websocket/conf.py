"""Settings and constants of the WebSocket room (``hardening.websocket``).

One setting: :data:`HARDENING_WEBSOCKET_QUERY_TOKEN` (off), the opt-in for tokens in the
query string, which servers and proxies write to their access logs (``hardening.W701`` in
production).  Everything else is a module constant here, read where it is used, so a
project (or a test) can change it with ``monkeypatch`` or by assignment at start-up.
"""

from __future__ import annotations

from hardening.conf import parse
from hardening.conf.base import Reader, setting

#: The subprotocol that announces a token: a client offers ``["bearer", "<token>"]`` in
#: ``Sec-WebSocket-Protocol``; the server answers with ``bearer`` alone, never the token.
SUBPROTOCOL = "bearer"
#: The query parameter read when ``HARDENING_WEBSOCKET_QUERY_TOKEN`` is on (RFC 6750's name).
QUERY_PARAMETER = "access_token"
#: The message that replaces the token of an open connection before it expires.
REAUTH_TYPE = "auth"
#: Largest inbound message (text or bytes) in bytes; a larger one closes with 1009.
MAX_MESSAGE_BYTES = 64 * 1024
#: Inbound messages one connection may send per :data:`MESSAGE_WINDOW` seconds (4429 beyond).
MESSAGE_LIMIT = 60
MESSAGE_WINDOW = 10.0
#: Seconds without a message in either direction before the connection is closed (4408;
#: 0: never).  Pings are answered by the server and do not count.
IDLE_SECONDS = 300.0

#: Close codes (RFC 6455 private range 4000-4999 mirrors the HTTP status).
UNAUTHENTICATED = 4401
FORBIDDEN = 4403
IDLE = 4408
TOO_MANY = 4429
TOO_BIG = 1009
UNAVAILABLE = 1013  # "try again later": the rate-limit cache is down and fails closed
INTERNAL_ERROR = 1011  # an unexpected failure (the database is down): refused, never a 500


class Settings(Reader):
    HARDENING_WEBSOCKET_QUERY_TOKEN = setting(
        False,
        parse.boolean,
        "Also read a WebSocket token from the ``access_token`` query parameter (off: query "
        "strings end up in access logs; ``hardening.W701`` in production).",
    )


conf = Settings()
