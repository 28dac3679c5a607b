"""Remove secrets from log records and error reports.

Two rules, applied everywhere (log records, audit fields, Sentry events):

* a value stored under a *sensitive key* (``password``, ``token``, ``authorization``,
  ``cookie``, ``secret``, ``code``, ``otp``, ``recovery`` ...) is replaced by
  :data:`FILTERED`, whatever its type;
* inside any string, JWT-looking values (three base64url segments starting ``eyJ``),
  ``Bearer``/``Basic`` credentials and ``key=value`` pairs whose key is sensitive are
  replaced by :data:`FILTERED`.

>>> scrub_text("auth failed for Bearer abc.def.ghi")
'auth failed for Bearer [Filtered]'
>>> scrub_text("next=/x?token=s3cr3t&page=2")
'next=/x?token=[Filtered]&page=2'
>>> scrub_text("token expired; Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b")
'token expired; Token [Filtered]'
>>> scrub({"user": "ann", "password": "hunter2", "nested": {"totp_code": "123456"}})
{'user': 'ann', 'password': '[Filtered]', 'nested': {'totp_code': '[Filtered]'}}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

FILTERED: Final = "[Filtered]"

#: Substrings (case-insensitive) that make a key sensitive.
SENSITIVE_TERMS: Final = (
    "passw",
    "pwd",
    "secret",
    "token",
    "auth",
    "cookie",
    "session",
    "csrf",
    "jwt",
    "bearer",
    "api_key",
    "apikey",
    "private",
    "credential",
    "signature",
    "otp",
    "totp",
    "code",
    "recovery",
    "dsn",
    "key",
)

#: Keys that contain a sensitive term but are safe (ids and names, not values).
SAFE_KEYS: Final = frozenset(
    {
        "auth_kind",
        "authenticator",
        "status_code",
        "error_code",
        "code_name",
        "key_id",
        "kid",
        "keyword",
        "monkey",
        "token_type",
        "otp_device_id",
    }
)

# A regex of key names, not a password.
_SENSITIVE_NAMES = (
    r"(?:passw\w*|pwd|secret|token|access|refresh|api[_-]?key|apikey|code|otp|totp"
    r"|recovery[_-]?codes?|session(?:id)?|csrf\w*|jwt|signature|sig|key)"
)
_PATTERNS: Final = (
    # JSON Web Tokens (header.payload[.signature]); the header always starts with eyJ.
    re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*)?"),
    # HTTP credentials.
    # (``Token`` is DRF's scheme; long values only, so "token expired" stays readable.)
    re.compile(
        r"(?i)(\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{6,}"
        r"|(\btoken\s+)[A-Za-z0-9._~+/=-]{20,}"
    ),
    # key=value / key: value / "key": "value" with a sensitive key.
    re.compile(r"(?i)((?:\b|_)" + _SENSITIVE_NAMES + r"[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,;}]{3,})"),
    # Secrets in URLs: scheme://user:password@host
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)([^\s@/]+)(?=@)"),
)


def is_sensitive_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    lowered = key.lower().replace("-", "_")
    if lowered in SAFE_KEYS:
        return False
    return any(term in lowered for term in SENSITIVE_TERMS)


def scrub_text(text: str) -> str:
    """Replace credentials found anywhere in ``text``."""
    jwt, credential, pair, url = _PATTERNS
    text = jwt.sub(FILTERED, text)
    text = credential.sub(lambda m: (m.group(1) or m.group(2)) + FILTERED, text)
    text = pair.sub(lambda m: m.group(0) if m.group(2) == FILTERED else m.group(1) + FILTERED, text)
    return url.sub(lambda m: m.group(1) + FILTERED, text)


def scrub(value: Any, *, depth: int = 0) -> Any:
    """A copy of ``value`` with sensitive keys blanked and strings scrubbed (recursive)."""
    if depth > 20:
        return FILTERED
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {
            k: FILTERED
            if is_sensitive_key(k) and v not in (None, "")
            else scrub(v, depth=depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        items = [_scrub_item(item, depth + 1) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return value


def _scrub_item(item: Any, depth: int) -> Any:
    # Sentry stores headers and cookies as [name, value] pairs.
    if (
        isinstance(item, (list, tuple))
        and len(item) == 2
        and isinstance(item[0], str)
        and is_sensitive_key(item[0])
    ):
        return [item[0], FILTERED]
    return scrub(item, depth=depth)
