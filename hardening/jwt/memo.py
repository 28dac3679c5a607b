"""Per-process memo of fully verified tokens (``HARDENING_JWT_VERIFIED_CACHE_SECONDS``).

After a token passed every check (signature, claims, lifetime, user), its claims are kept
under the SHA-256 digest of the exact token string, so the same string is accepted again
without verifying the signature, until the earliest of:

* its ``exp`` (never past it: the leeway does not extend a memoized token);
* the memo TTL (default 60 s) after it was verified;
* a change of the issuer's key set: an entry remembers the JWKS key set it was verified
  against and is ignored once the store has installed another one (any refresh);
* any ``setting_changed`` (the whole memo is dropped).

What is not memoized, and still runs on every hit: the revocation lookup of own access
tokens, and the user lookup (own tokens, ``USER_MODE = "create"``).  Rejections are never
memoized.  The hit path is a dict lookup without a lock; inserts and evictions (oldest
first, bounded by ``HARDENING_JWT_VERIFIED_CACHE_SIZE``) take a lock.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from hardening.conf import conf
from hardening.jwt.config import Issuer
from hardening.jwt.tokens import check_not_revoked
from hardening.jwt.users import external_user, own_user

__all__ = ["Entry", "VerifiedMemo", "clear_memo", "replay", "verified_memo"]

#: Expired entries dropped from the front of the memo per insert (amortised clean-up).
SWEEP_PER_INSERT = 8


@dataclass(frozen=True)
class Entry:
    claims: dict[str, Any]
    kind: str  # "jwt" | "clerk" | "oidc"
    issuer: Issuer | None  # None for own tokens
    expires: float  # wall clock: min(exp, verified at + TTL)
    store: Any = None  # the issuer's KeyStore, when its keys come from a JWKS
    keys: Any = None  # the key set (dict) of ``store`` the token was verified against

    def valid(self, now: float) -> bool:
        return now < self.expires and (self.store is None or self.store.keys is self.keys)


class VerifiedMemo:
    def __init__(self, ttl: float, size: int, max_bytes: int) -> None:
        self.ttl, self.size, self.max_bytes = ttl, size, max_bytes
        self._entries: dict[bytes, Entry] = {}
        self._lock = threading.Lock()  # writers only

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def digest(raw: str) -> bytes:
        return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).digest()

    def get(self, digest: bytes) -> Entry | None:
        """The live entry for ``digest`` (no lock: readers never mutate the dict)."""
        entry = self._entries.get(digest)
        if entry is None or not entry.valid(time.time()):
            return None
        return entry

    def put(
        self,
        digest: bytes,
        claims: dict[str, Any],
        kind: str,
        issuer: Issuer | None,
        store: Any = None,
        keys: Any = None,
    ) -> None:
        now = time.time()
        exp = claims.get("exp")
        if isinstance(exp, bool) or not isinstance(exp, (int, float)):
            return
        expires = min(float(exp), now + self.ttl)
        if expires <= now:
            return
        entry = Entry(dict(claims), kind, issuer, expires, store, keys)
        with self._lock:
            entries = self._entries
            entries.pop(digest, None)  # re-inserted at the end: eviction is oldest first
            entries[digest] = entry
            for _ in range(SWEEP_PER_INSERT):
                oldest = next(iter(entries))
                if oldest == digest or entries[oldest].valid(now):
                    break
                del entries[oldest]
            while len(entries) > self.size:
                del entries[next(iter(entries))]

    def discard(self, digest: bytes) -> None:
        with self._lock:
            self._entries.pop(digest, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_memo: list[VerifiedMemo | None] = []  # [] = not built yet; [None] = disabled
_memo_lock = threading.Lock()


def verified_memo() -> VerifiedMemo | None:
    """The process's memo, or None when it is off (0 or an invalid setting)."""
    if _memo:
        return _memo[0]
    with _memo_lock:
        if not _memo:
            ttl = conf.HARDENING_JWT_VERIFIED_CACHE_SECONDS
            size = conf.HARDENING_JWT_VERIFIED_CACHE_SIZE
            enabled = bool(ttl and size)
            memo = VerifiedMemo(ttl or 0.0, size or 0, conf.HARDENING_JWT_MAX_TOKEN_BYTES)
            _memo.append(memo if enabled else None)
        return _memo[0]


def clear_memo() -> None:
    """Forget every verified token (and rebuild the memo from the settings on next use)."""
    with _memo_lock:
        if _memo and _memo[0] is not None:
            _memo[0].clear()
        _memo.clear()


@receiver(setting_changed)
def _on_setting_changed(**kwargs: Any) -> None:
    # Any setting: keys, issuers, audiences, user mode, leeway... all shape a verification.
    clear_memo()


def replay(
    memo: VerifiedMemo, digest: bytes, entry: Entry, *, defer_revocation: bool = False
) -> tuple[dict[str, Any], Any, str]:
    """``(claims, user, kind)`` for a memo hit, exactly as a fresh verification gives them:
    a fresh claims dict, and the per-request checks that are never memoized (the revocation
    lookup is only left to the caller with ``defer_revocation``, see ``hardening.jwt.auth``)."""
    claims = dict(entry.claims)
    if entry.kind == "jwt":
        if defer_revocation:
            return claims, own_user(claims), "jwt"
        try:
            check_not_revoked(claims)
        except Exception:
            memo.discard(digest)
            raise
        return claims, own_user(claims), "jwt"
    assert entry.issuer is not None
    return claims, external_user(claims, entry.issuer), entry.kind
