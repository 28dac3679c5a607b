"""Verification of tokens from other issuers (Clerk, any OIDC provider).

The algorithm comes from the issuer's allow-list, never from the token; the key comes from
that issuer's own key store; ``iss`` is always checked, ``aud`` when configured (and a token
with an unexpected ``aud`` is refused), ``azp`` against the authorized parties, the
lifetime is capped, and Clerk's ``sts: "pending"`` is refused unless allowed.
"""

from __future__ import annotations

from typing import Any

from hardening.conf import conf
from hardening.jwt.claims import check_lifetime, validate_claims, verify_signature
from hardening.jwt.config import ASYMMETRIC_ALGORITHMS, Issuer
from hardening.jwt.jwks import KeyLookupError, KeyStore, store_for
from hardening.jwt.parsing import Parsed, TokenRejected

__all__ = ["verify_external"]

_FAMILY = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}


def _clerk_claims(claims: dict[str, Any], issuer: Issuer) -> None:
    if claims.get("sts") == "pending" and not issuer.allow_pending:
        raise TokenRejected("pending_session", issuer.kind)
    if "sid" in issuer.required_claims and not isinstance(claims.get("sid"), str):
        raise TokenRejected("missing_claim", issuer.kind)
    org = claims.get("o")
    if isinstance(org, dict):  # v2 session tokens: expand like Clerk's SDKs do
        claims.setdefault("org_id", org.get("id"))
        claims.setdefault("org_slug", org.get("slg"))
        role = org.get("rol")
        if isinstance(role, str):
            claims.setdefault("org_role", role if role.startswith("org:") else f"org:{role}")
        permissions = org.get("per")
        if isinstance(permissions, str):
            claims.setdefault("org_permissions", [p for p in permissions.split(",") if p])


def verify_external(parsed: Parsed, issuer: Issuer) -> dict[str, Any]:
    """The verified claims of ``parsed`` from ``issuer``, or :class:`TokenRejected`."""
    kind = issuer.kind
    alg = parsed.alg
    if alg not in issuer.algorithms or alg not in ASYMMETRIC_ALGORITHMS:
        raise TokenRejected("algorithm", kind)
    typ = parsed.header.get("typ")
    if typ is not None and str(typ).lower() not in issuer.types:
        raise TokenRejected("typ", kind)
    try:
        store = store_for(issuer)
        if isinstance(store, KeyStore):
            if parsed.kid is None:
                raise TokenRejected("unknown_key", kind)
            key = store.get(parsed.kid)
        else:
            key = store.get(parsed.kid or "")
    except KeyLookupError as exc:
        reason = exc.reason if exc.reason in ("unknown_key", "jwks_unavailable") else "unknown_key"
        raise TokenRejected(reason, kind) from None
    if key.kty != _FAMILY.get(alg[:2]) or (key.alg is not None and key.alg != alg):
        raise TokenRejected("algorithm", kind)
    verify_signature(parsed, key.key, kind)
    leeway = conf.HARDENING_JWT_LEEWAY
    claims = dict(parsed.payload)
    validate_claims(
        claims,
        kind=kind,
        issuer=issuer.issuer,
        audience=issuer.audience,
        required=issuer.required_claims,
        leeway=leeway,
    )
    check_lifetime(claims, conf.HARDENING_JWT_MAX_LIFETIME, leeway)
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise TokenRejected("missing_claim", kind)
    if issuer.authorized_parties and claims.get("azp") not in issuer.authorized_parties:
        raise TokenRejected("azp", kind)
    if kind == "clerk":
        _clerk_claims(claims, issuer)
    return claims
