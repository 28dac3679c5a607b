"""Settings of token verification and of the project's own tokens (``hardening.jwt``).

Other issuers (Clerk, any OIDC provider) are one list, ``HARDENING_JWT_ISSUERS``: a dict per
issuer, its ``"preset"`` (``"clerk"`` or ``"oidc"``, the default) filling in what that kind
of issuer needs (:mod:`hardening.jwt.issuers`).  The knobs almost nobody needs are module
constants where they are used: the own tokens' ``iss`` and the clock leeway (:data:`ISSUER`,
:data:`LEEWAY` here), the token size cap (:data:`hardening.jwt.jws.MAX_TOKEN_BYTES`), the
verified-token memo (:data:`hardening.jwt.verify.MEMO_SECONDS`, ``MEMO_SIZE``), the JWKS
timings (:data:`hardening.jwt.keys.CACHE_TTL`, ``COOLDOWN``, ``STALE_TTL``, ``TIMEOUT``) and
the login challenges (:data:`hardening.jwt.views.LOGIN_CHALLENGES`).  Fetched JWKS documents
are shared between processes through ``HARDENING_CACHE`` when that cache is not per-process.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hardening.conf import conf as core
from hardening.conf import parse
from hardening.conf.base import Reader, setting
from hardening.jwt.signingkey import parse_signing_key

#: ``iss`` of the project's own tokens (always set, always checked).
ISSUER = "django-hardening"
#: Seconds of clock skew tolerated on ``exp`` / ``nbf`` / ``iat`` (every issuer).
LEEWAY = 5

PRESETS = ("oidc", "clerk")
USER_MODES = ("stateless", "create")
#: The keys of an ``HARDENING_JWT_ISSUERS`` entry and how each is parsed.
_STRING_KEYS: tuple[str, ...] = ("preset", "label", "issuer", "jwks_url", "public_key")
_STRING_KEYS += ("secret_key", "publishable_key", "api_url")
_LIST_KEYS = ("audience", "algorithms", "authorized_parties", "required_claims", "types")
_BOOL_KEYS = ("allow_pending", "session_cookie", "machine_tokens")
_NUMBER_KEYS = ("max_lifetime",)
ISSUER_KEYS = frozenset(_STRING_KEYS + _LIST_KEYS + _BOOL_KEYS + _NUMBER_KEYS)


def _lifetime(value: Any) -> int:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"expected seconds above 0 (or a timedelta), got {value!r}")
    return int(value)


def _entry(index: int, item: Any) -> dict[str, Any]:
    where = f"entry {index}"
    if not isinstance(item, dict):
        raise TypeError(f"{where}: expected a dict, got {type(item).__name__}")
    unknown = sorted(set(map(str, item)) - ISSUER_KEYS)
    if unknown:
        hint = " (use 'preset')" if "kind" in unknown else ""
        raise ValueError(f"{where}: unknown key {unknown[0]!r}{hint}")
    entry: dict[str, Any] = {}
    for key, value in item.items():
        try:
            if key in _STRING_KEYS:
                entry[key] = parse.string(value)
            elif key in _LIST_KEYS:
                entry[key] = [v for v in parse.strings(value) if v]
            elif key in _BOOL_KEYS:
                entry[key] = parse.boolean(value)
            else:
                entry[key] = _lifetime(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {key!r}: {exc}") from None
    preset = entry.setdefault("preset", "oidc")
    if preset not in PRESETS:
        raise ValueError(f"{where}: unknown preset {preset!r} (use 'clerk' or 'oidc')")
    if entry.get("session_cookie") and preset != "clerk":
        raise ValueError(f"{where}: 'session_cookie' is Clerk's __session cookie (preset clerk)")
    for key in ("machine_tokens", "api_url"):
        if key in entry and preset != "clerk":
            raise ValueError(f"{where}: {key!r} is for Clerk machine tokens (preset clerk)")
    return entry


def _issuers(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise TypeError(f"expected a list of dicts, got {type(value).__name__}")
    return [_entry(index, item) for index, item in enumerate(value)]


def _production(reader: Any) -> bool:
    return core.is_production


def _issuer_key(key: str) -> str:
    return f'HARDENING_JWT_ISSUERS (an entry with "preset": "clerk" and "{key}")'


class JWTSettings(Reader):
    removed = {
        "HARDENING_CLERK_ISSUER": _issuer_key("issuer"),
        "HARDENING_CLERK_JWKS_URL": _issuer_key("jwks_url"),
        "HARDENING_CLERK_JWT_KEY": _issuer_key("public_key"),
        "HARDENING_CLERK_AUTHORIZED_PARTIES": _issuer_key("authorized_parties"),
        "HARDENING_CLERK_ALLOW_PENDING": _issuer_key("allow_pending"),
        "HARDENING_CLERK_SESSION_COOKIE": _issuer_key("session_cookie"),
        "HARDENING_CLERK_SECRET_KEY": _issuer_key("secret_key"),
        "HARDENING_CLERK_PUBLISHABLE_KEY": _issuer_key("publishable_key"),
        "HARDENING_OIDC_ISSUER": 'HARDENING_JWT_ISSUERS (an entry with "issuer")',
        "HARDENING_OIDC_JWKS_URL": 'HARDENING_JWT_ISSUERS (an entry with "jwks_url")',
        "HARDENING_OIDC_AUDIENCE": 'HARDENING_JWT_ISSUERS (an entry with "audience")',
        "HARDENING_OIDC_ALGORITHMS": 'HARDENING_JWT_ISSUERS (an entry with "algorithms")',
        "HARDENING_JWT_BEARER_PATHS": "HARDENING_API_PATHS",
        "HARDENING_JWKS_SHARED_CACHE": (
            "HARDENING_CACHE (JWKS documents are shared when it is not per-process)"
        ),
        "HARDENING_JWT_ISSUER": "the constant hardening.jwt.conf.ISSUER",
        "HARDENING_JWT_LEEWAY": "the constant hardening.jwt.conf.LEEWAY",
        "HARDENING_JWT_MAX_LIFETIME": (
            'the "max_lifetime" key of an HARDENING_JWT_ISSUERS entry '
            "(default hardening.jwt.issuers.MAX_LIFETIME)"
        ),
        "HARDENING_JWT_MAX_TOKEN_BYTES": "the constant hardening.jwt.jws.MAX_TOKEN_BYTES",
        "HARDENING_JWT_VERIFIED_CACHE_SECONDS": "the constant hardening.jwt.verify.MEMO_SECONDS",
        "HARDENING_JWT_VERIFIED_CACHE_SIZE": "the constant hardening.jwt.verify.MEMO_SIZE",
        "HARDENING_JWKS_CACHE_TTL": "the constant hardening.jwt.keys.CACHE_TTL",
        "HARDENING_JWKS_COOLDOWN": "the constant hardening.jwt.keys.COOLDOWN",
        "HARDENING_JWKS_STALE_TTL": "the constant hardening.jwt.keys.STALE_TTL",
        "HARDENING_JWKS_TIMEOUT": "the constant hardening.jwt.keys.TIMEOUT",
        "HARDENING_LOGIN_CHALLENGES": (
            "nothing: the MFA step is always asked of users with MFA "
            "(the constant hardening.jwt.views.LOGIN_CHALLENGES)"
        ),
    }

    HARDENING_JWT_OWN_TOKENS = setting(
        True,
        parse.boolean,
        "Issue and verify the project's own tokens (``/api/auth/token``); checks its key.",
    )
    HARDENING_JWT_ALGORITHM = setting(
        lambda reader: "RS256" if _production(reader) else "HS256",
        parse.string,  # an unsupported name is reported by hardening.E043
        "Algorithm of the own tokens (default ``RS256`` in production, ``HS256`` elsewhere).",
    )
    HARDENING_JWT_SIGNING_KEY = setting(
        "",
        parse_signing_key,
        "Private key (PEM) for RS*/ES*/EdDSA, or the shared secret for HS*; or a list of "
        "``{kid, key, active_from}`` for rotation (read: the key signing now).",
    )
    HARDENING_JWT_VERIFYING_KEY = setting(
        "",
        parse.string,
        "Public key (PEM) for RS*/ES*/EdDSA; unused for HS*.",
    )
    HARDENING_JWT_ACCESS_TOKEN_LIFETIME = setting(
        900, _lifetime, "Seconds an own access token lives (default 15 minutes)."
    )
    HARDENING_JWT_REFRESH_TOKEN_LIFETIME = setting(
        7 * 24 * 3600,
        _lifetime,
        "Seconds an own refresh token lives (default 7 days); each refresh rotates it.",
    )
    HARDENING_JWT_ISSUERS = setting(
        list[dict[str, Any]](),
        _issuers,
        "Other issuers whose tokens are accepted: a dict each (``preset``, ``issuer``, "
        "``jwks_url`` or ``public_key``, ``audience``, ``authorized_parties``...).",
    )
    HARDENING_JWT_USER_MODE = setting(
        "stateless",
        parse.choice(*USER_MODES),
        "Users of other issuers: ``stateless`` (built from the claims) or ``create`` (a row).",
    )
    HARDENING_JWT_REVOKE_ACCESS_TOKENS = setting(
        _production,
        parse.boolean,
        "Logout and a replayed refresh token also revoke access tokens at once (one cache "
        "read per request; default on in production).",
    )


conf = JWTSettings()
