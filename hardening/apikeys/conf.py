"""Settings of API keys (``hardening.apikeys``): the key that hashes them and their prefix.

Everything else is a module constant where it is used: the header besides ``Authorization:
Api-Key`` (:data:`hardening.apikeys.auth.HEADER`), the length of the secret
(:data:`hardening.apikeys.keys.SECRET_CHARS`), how often ``last_used_at`` is written
(:data:`hardening.apikeys.keys.LAST_USED_EVERY`).
"""

from __future__ import annotations

import re
from typing import Any

from hardening.conf import parse
from hardening.conf.base import Reader, setting

_PREFIX = re.compile(r"^[a-z][a-z0-9]{1,15}$")


def _prefix(value: Any) -> str:
    found = parse.string(value)
    if not _PREFIX.match(found):
        raise ValueError(f"expected 2-16 lowercase letters or digits, got {found!r}")
    return found


class APIKeySettings(Reader):
    HARDENING_API_KEY_HASH_KEY = setting(
        "",
        parse.string,
        "Server-side key of the HMAC-SHA-256 that stores API keys (required in production; "
        "at least 32 characters, no other secret's value).",
    )
    HARDENING_API_KEY_PREFIX = setting(
        "hk",
        _prefix,
        "First part of every API key (``hk_live_<id>_<secret>``), for secret scanners.",
    )


conf = APIKeySettings()
