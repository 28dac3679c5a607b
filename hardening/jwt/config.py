"""Trusted issuers, built from the flat settings on every call (cheap, so
``override_settings`` always applies).

Each :class:`Issuer` is frozen and hashable: the JWKS key store of an issuer is looked up by
its ``Issuer`` value, so a key is only ever trusted for the issuer whose JWKS served it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from hardening.conf import conf

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "CLERK_MACHINE_PREFIXES",
    "Issuer",
    "affects_issuers",
    "clear_issuers",
    "external_issuers",
    "issuer_for",
]

ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
#: Clerk machine credentials: never JWTs, verified by Clerk's Backend API, refused here.
CLERK_MACHINE_PREFIXES = ("ak_", "oat_", "m2m_", "mt_")
DEFAULT_TYPES = ("jwt", "at+jwt", "application/at+jwt")


@dataclass(frozen=True)
class Issuer:
    """One trusted token issuer (Clerk instance, OIDC provider...)."""

    label: str
    kind: str  # "clerk" | "oidc"
    issuer: str
    jwks_url: str = ""
    public_key: str = field(default="", repr=False)
    algorithms: tuple[str, ...] = ("RS256",)
    audience: tuple[str, ...] = ()
    authorized_parties: tuple[str, ...] = ()
    required_claims: tuple[str, ...] = ("exp", "iat", "sub", "iss")
    allow_pending: bool = False
    types: tuple[str, ...] = DEFAULT_TYPES

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Issuer:
        def strings(name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
            value = data.get(name, default)
            if isinstance(value, str):
                value = [value] if value else []
            return tuple(str(item) for item in value)

        kind = str(data.get("kind", "oidc"))
        required = ("exp", "iat", "sub", "iss") + (("sid",) if kind == "clerk" else ())
        return cls(
            label=str(data.get("label") or kind),
            kind=kind,
            issuer=str(data.get("issuer") or ""),
            jwks_url=str(data.get("jwks_url") or ""),
            public_key=str(data.get("public_key") or ""),
            algorithms=strings("algorithms", ("RS256",)),
            audience=strings("audience"),
            authorized_parties=strings("authorized_parties"),
            required_claims=strings("required_claims", required),
            allow_pending=bool(data.get("allow_pending", False)),
            types=tuple(t.lower() for t in strings("types", DEFAULT_TYPES)),
        )


def _clerk() -> dict[str, Any] | None:
    issuer = conf.HARDENING_CLERK_ISSUER
    key = conf.HARDENING_CLERK_JWT_KEY
    url = conf.HARDENING_CLERK_JWKS_URL
    if not (issuer or key or url):
        return None
    if not url and not key and issuer:
        url = issuer + "/.well-known/jwks.json"
    return {
        "label": "clerk",
        "kind": "clerk",
        "issuer": issuer,
        "jwks_url": url,
        "public_key": key,
        "algorithms": ["RS256"],
        "authorized_parties": conf.HARDENING_CLERK_AUTHORIZED_PARTIES,
        "allow_pending": conf.HARDENING_CLERK_ALLOW_PENDING,
    }


def _oidc() -> dict[str, Any] | None:
    issuer = conf.HARDENING_OIDC_ISSUER
    url = conf.HARDENING_OIDC_JWKS_URL
    if not (issuer or url):
        return None
    return {
        "label": "oidc",
        "kind": "oidc",
        "issuer": issuer,
        "jwks_url": url,
        "algorithms": conf.HARDENING_OIDC_ALGORITHMS,
        "audience": conf.HARDENING_OIDC_AUDIENCE,
    }


_cache: dict[str, tuple[Issuer, ...]] = {}


def external_issuers() -> tuple[Issuer, ...]:
    """Every configured issuer other than the project itself (including broken ones, for
    the system checks).  Cached; cleared when a setting it is built from changes."""
    cached = _cache.get("issuers")
    if cached is None:
        found: list[dict[str, Any]] = [item for item in (_clerk(), _oidc()) if item]
        found.extend(conf.HARDENING_JWT_ISSUERS)
        cached = _cache["issuers"] = tuple(Issuer.from_dict(item) for item in found)
    return cached


def clear_issuers() -> None:
    _cache.clear()


def affects_issuers(setting: str) -> bool:
    return setting.startswith(("HARDENING_CLERK_", "HARDENING_OIDC_", "HARDENING_JWKS_")) or (
        setting == "HARDENING_JWT_ISSUERS"
    )


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if affects_issuers(setting):
        clear_issuers()


def issuer_for(iss: str) -> Issuer | None:
    """The trusted issuer whose ``iss`` is exactly ``iss`` (usable ones only)."""
    for candidate in external_issuers():
        if candidate.issuer and candidate.issuer == iss:
            return candidate
    return None
