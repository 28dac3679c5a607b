"""Verifying one bearer token: :func:`verify` routes it by ``iss`` to the project's own
rules or to a trusted issuer's, and remembers what it verified (the memo below).

The algorithm comes from an allow-list, never from the token: the own tokens' one algorithm,
or the issuer's list (asymmetric only).  The key comes from that issuer's own key store
(:mod:`hardening.jwt.keys`), so a key is only ever trusted for the issuer whose JWKS served
it.  ``iss`` is always checked, ``aud`` when configured (a token with an unexpected ``aud`` is
refused), ``azp`` against the authorized parties, the lifetime is capped, and Clerk's
``sts: "pending"`` is refused unless allowed.

**The verified-token memo.**  After a token passed every check, its claims are kept under
the SHA-256 digest of the exact token string, so the same string is accepted again without
verifying the signature, until the earliest of: its ``exp`` (the leeway never extends a
memoized token); :data:`MEMO_SECONDS` after it was verified; a change of the issuer's key
set (an entry remembers the key set it was verified against); any ``setting_changed``.
What a verification does not cover runs on every request (:mod:`hardening.jwt.auth`): the
user lookup and the revocation lookup of own access tokens.  Rejections are never memoized.
The hit path is a dict lookup without a lock; inserts and evictions (oldest first, at most
:data:`MEMO_SIZE` entries) take a lock.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from dataclasses import dataclass
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from jwt.algorithms import get_default_algorithms

from hardening import clock
from hardening.jwt.conf import ISSUER, LEEWAY, conf
from hardening.jwt.fetch import KeyLookupError
from hardening.jwt.issuers import (
    ASYMMETRIC_ALGORITHMS,
    CLERK_MACHINE_PREFIXES,
    MACHINE_KIND,
    Issuer,
    clerk_claims,
    issuer_for,
    machine_issuer,
    machine_jwt,
)
from hardening.jwt.jws import (
    MAX_TOKEN_BYTES,
    Parsed,
    TokenRejected,
    check_lifetime,
    parse,
    validate_claims,
    verify_signature,
)
from hardening.jwt.keys import KeyStore, store_for
from hardening.jwt.machine import verify_opaque
from hardening.jwt.ownkeys import verifying_key

#: Seconds a fully verified token is remembered per process (0: off; never past its exp).
MEMO_SECONDS = 60.0
#: Most verified tokens remembered per process (0: off).
MEMO_SIZE = 10_000
#: Expired entries dropped from the front of the memo per insert (amortised clean-up).
SWEEP_PER_INSERT = 8
OWN_REQUIRED_CLAIMS = ("exp", "iat", "jti", "token_type", "user_id", "iss")
_FAMILY = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}


@dataclass(frozen=True)
class Verified:
    claims: dict[str, Any]
    kind: str  # "jwt" (own tokens) | the issuer's preset, "clerk" | "oidc"
    issuer: Issuer | None  # None for own tokens


def verify(raw: str, *, from_cookie: bool = False) -> Verified:
    """The verified claims of ``raw``, or :class:`~hardening.jwt.jws.TokenRejected`.

    ``from_cookie``: the token came from Clerk's ``__session`` cookie; only issuers with
    ``"session_cookie": True`` accept it."""
    if raw.startswith(CLERK_MACHINE_PREFIXES):  # opaque: Clerk's Backend API, when allowed
        return verify_machine(raw, from_cookie=from_cookie)
    memo, digest = verified_memo(), b""
    if memo is not None and len(raw) <= MAX_TOKEN_BYTES:
        digest = memo.digest(raw)
        entry = memo.get(digest)
        if entry is not None and (not from_cookie or _cookie_ok(entry.found)):
            found = entry.found
            return Verified(dict(found.claims), found.kind, found.issuer)
    parsed = parse(raw)
    iss = parsed.payload.get("iss")
    if not isinstance(iss, str) or not iss:
        raise TokenRejected("missing_claim")
    if not from_cookie and conf.HARDENING_JWT_OWN_TOKENS and iss == ISSUER:
        found = Verified(verify_own(parsed), "jwt", None)
        if memo is not None and digest:
            memo.put(digest, found)
        return found
    issuer = issuer_for(iss)
    if issuer is None or (from_cookie and not issuer.session_cookie):
        raise TokenRejected("unknown_issuer")
    try:
        store: Any = store_for(issuer)
    except KeyLookupError:
        store = None  # verify_external rejects the token
    # The key set is read before verifying: a refresh meanwhile leaves the entry stale.
    keys = store.keys if isinstance(store, KeyStore) else None
    kind = MACHINE_KIND if machine_jwt(parsed.payload, issuer) else issuer.kind
    if from_cookie and kind == MACHINE_KIND:  # never in Clerk's session cookie
        raise TokenRejected("machine_token", "clerk")
    found = Verified(verify_external(parsed, issuer), kind, issuer)
    if memo is not None and digest and (keys is None or store.keys is keys):
        # Only when the key set did not change meanwhile (a cold store's first fetch did).
        memo.put(digest, found, store if keys is not None else None, keys)
    return found


def verify_machine(raw: str, *, from_cookie: bool = False) -> Verified:
    """An opaque Clerk machine token, for the Clerk issuer with ``machine_tokens`` (else, or
    from a cookie, ``machine_token``): Clerk's Backend API says (:mod:`hardening.jwt.machine`)."""
    clerk = machine_issuer()
    if clerk is None or from_cookie:
        raise TokenRejected("machine_token", "clerk")
    return Verified(verify_opaque(raw, clerk), MACHINE_KIND, clerk)


def _cookie_ok(found: Verified) -> bool:
    """May a memoized token come from Clerk's ``__session`` cookie (never a machine's)?"""
    issuer = found.issuer
    return issuer is not None and issuer.session_cookie and found.kind != MACHINE_KIND


@functools.lru_cache(maxsize=8)
def own_key(algorithm: str, key: str) -> Any:
    """The prepared verifying key of the own tokens (the signing secret for HS*)."""
    return get_default_algorithms()[algorithm].prepare_key(key)


def verify_own(parsed: Parsed, token_type: str = "access") -> dict[str, Any]:  # noqa: S107
    """The verified claims of one of the project's own access (or refresh) tokens; an access
    token's revocation and user are checked per request (:mod:`hardening.jwt.tokens`)."""
    algorithm = conf.HARDENING_JWT_ALGORITHM
    if parsed.alg != algorithm or algorithm not in get_default_algorithms():
        raise TokenRejected("algorithm", "jwt")
    typ = parsed.header.get("typ")
    if typ is not None and str(typ).lower() != "jwt":
        raise TokenRejected("typ", "jwt")
    key = verifying_key(parsed.kid, algorithm)  # by kid when the keys rotate
    if not key:
        raise TokenRejected("signature", "jwt")
    verify_signature(parsed, own_key(algorithm, key), "jwt")
    claims = dict(parsed.payload)
    validate_claims(
        claims, kind="jwt", issuer=ISSUER, audience=(), required=OWN_REQUIRED_CLAIMS, leeway=LEEWAY
    )
    if claims.get("token_type") != token_type:
        raise TokenRejected("wrong_type", "jwt")
    check_lifetime(
        claims, getattr(conf, f"HARDENING_JWT_{token_type.upper()}_TOKEN_LIFETIME"), LEEWAY
    )
    return claims


def verify_external(parsed: Parsed, issuer: Issuer) -> dict[str, Any]:
    """The verified claims of ``parsed`` from ``issuer``, or :class:`TokenRejected`."""
    kind, alg = issuer.kind, parsed.alg
    if alg not in issuer.algorithms or alg not in ASYMMETRIC_ALGORITHMS:
        raise TokenRejected("algorithm", kind)
    typ = parsed.header.get("typ")
    if typ is not None and str(typ).lower() not in issuer.types:
        raise TokenRejected("typ", kind)
    try:
        store = store_for(issuer)
        if isinstance(store, KeyStore) and parsed.kid is None:
            raise TokenRejected("unknown_key", kind)
        key = store.get(parsed.kid or "")
    except KeyLookupError as exc:
        reason = exc.reason if exc.reason in ("unknown_key", "jwks_unavailable") else "unknown_key"
        raise TokenRejected(reason, kind) from None
    if key.kty != _FAMILY.get(alg[:2]) or (key.alg is not None and key.alg != alg):
        raise TokenRejected("algorithm", kind)
    verify_signature(parsed, key.key, kind)
    claims = dict(parsed.payload)
    machine = machine_jwt(claims, issuer)  # no sid, and azp names a browser origin
    required = tuple(n for n in issuer.required_claims if not (machine and n == "sid"))
    validate_claims(
        claims,
        kind=kind,
        issuer=issuer.issuer,
        audience=issuer.audience,
        required=required,
        leeway=LEEWAY,
    )
    check_lifetime(claims, issuer.max_lifetime, LEEWAY)
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise TokenRejected("missing_claim", kind)
    if (
        issuer.authorized_parties
        and not machine
        and claims.get("azp") not in issuer.authorized_parties
    ):
        raise TokenRejected("azp", kind)
    if kind == "clerk" and not machine:
        clerk_claims(claims, issuer)
    return claims


# -- the verified-token memo ----------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    found: Verified
    expires: float  # wall clock: min(exp, verified at + MEMO_SECONDS)
    store: Any = None  # the issuer's KeyStore, when its keys come from a JWKS
    keys: Any = None  # the key set (dict) of ``store`` the token was verified against

    def valid(self, now: float) -> bool:
        return now < self.expires and (self.store is None or self.store.keys is self.keys)


class VerifiedMemo:
    def __init__(self, ttl: float, size: int) -> None:
        self.ttl, self.size = ttl, size
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
        if entry is None or not entry.valid(clock.now()):
            return None
        return entry

    def put(self, digest: bytes, found: Verified, store: Any = None, keys: Any = None) -> None:
        now, exp = clock.now(), found.claims.get("exp")
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            return
        expires = min(float(exp), now + self.ttl)
        if expires <= now:
            return
        entry = Entry(Verified(dict(found.claims), found.kind, found.issuer), expires, store, keys)
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

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_memo: list[VerifiedMemo | None] = []  # [] = not built yet; [None] = off
_memo_lock = threading.Lock()


def verified_memo() -> VerifiedMemo | None:
    """The process's memo, or None when it is off (:data:`MEMO_SECONDS` or ``MEMO_SIZE`` 0)."""
    if _memo:
        return _memo[0]
    with _memo_lock:
        if not _memo:
            enabled = MEMO_SECONDS > 0 and MEMO_SIZE > 0
            _memo.append(VerifiedMemo(MEMO_SECONDS, MEMO_SIZE) if enabled else None)
        return _memo[0]


def clear_memo() -> None:
    """Forget every verified token (and rebuild the memo from the constants on next use)."""
    with _memo_lock:
        if _memo and _memo[0] is not None:
            _memo[0].clear()
        _memo.clear()


@receiver(setting_changed)
def _on_setting_changed(**kwargs: Any) -> None:
    # Any setting: keys, issuers, audiences, user mode... all shape a verification.
    clear_memo()
    own_key.cache_clear()
