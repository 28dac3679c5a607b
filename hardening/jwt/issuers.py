"""The trusted issuers other than the project itself (``HARDENING_JWT_ISSUERS``), their
presets, and the user their verified claims stand for.

Each entry of the list is a dict; its ``"preset"`` fills in what that kind of issuer needs:

* ``"oidc"`` (the default): any OpenID Connect provider; ``audience`` should be set (W102).
* ``"clerk"``: a Clerk instance; ``sid`` is required, ``sts: "pending"`` sessions are refused
  unless ``allow_pending``, the JWKS URL defaults to ``<issuer>/.well-known/jwks.json``,
  ``session_cookie`` also reads Clerk's ``__session`` cookie, and ``secret_key`` /
  ``publishable_key`` are checked for development keys in production (E045/E046).
  ``machine_tokens`` also accepts Clerk's machine tokens: M2M JWTs (no ``sid``, ``sub``
  ``mch_...``) verified with the same JWKS, and opaque ``ak_`` / ``oat_`` / ``m2m_`` / ``mt_``
  tokens verified by Clerk's Backend API (``api_url``, with ``secret_key``;
  :mod:`hardening.jwt.machine`).

An :class:`Issuer` is frozen and hashable: the JWKS key store of an issuer is looked up by
its ``Issuer`` value, so a key is only ever trusted for the issuer whose JWKS served it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.signals import setting_changed
from django.dispatch import receiver

from hardening.breaker import GuardedCache
from hardening.conf import conf as core
from hardening.jwt.conf import conf
from hardening.jwt.discovery import discovery_url
from hardening.jwt.fetch import KeyLookupError, SigningKey
from hardening.jwt.jws import TokenRejected

ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
#: Clerk machine credentials: never JWTs, verified by Clerk's Backend API
#: (:mod:`hardening.jwt.machine`) for a Clerk issuer with ``machine_tokens``, refused otherwise.
CLERK_MACHINE_PREFIXES = ("ak_", "oat_", "m2m_", "mt_")
#: Clerk's Backend API (an issuer's ``api_url`` replaces it).
CLERK_API_URL = "https://api.clerk.com/v1"
#: The credential kind of a Clerk machine token (JWT or opaque).
MACHINE_KIND = "clerk_machine"
DEFAULT_TYPES = ("jwt", "at+jwt", "application/at+jwt")
#: Longest ``exp - iat`` (and ``exp - now``) accepted, in seconds; per issuer ``max_lifetime``.
MAX_LIFETIME = 24 * 3600
#: Seconds the primary key of a ``USER_MODE = "create"`` user is cached.
USER_CACHE_SECONDS = 300
REQUIRED_CLAIMS = ("exp", "iat", "sub", "iss")


@dataclass(frozen=True)
class Issuer:
    """One trusted token issuer (a Clerk instance, an OIDC provider...)."""

    label: str
    kind: str  # the preset: "clerk" | "oidc"
    issuer: str
    jwks_url: str = ""
    public_key: str = field(default="", repr=False)
    #: ``<issuer>/.well-known/openid-configuration`` when the entry gives only the issuer.
    discovery_url: str = ""
    algorithms: tuple[str, ...] = ("RS256",)
    audience: tuple[str, ...] = ()
    authorized_parties: tuple[str, ...] = ()
    required_claims: tuple[str, ...] = REQUIRED_CLAIMS
    allow_pending: bool = False
    session_cookie: bool = False
    types: tuple[str, ...] = DEFAULT_TYPES
    max_lifetime: int = MAX_LIFETIME
    secret_key: str = field(default="", repr=False)
    publishable_key: str = ""
    machine_tokens: bool = False
    api_url: str = CLERK_API_URL

    @property
    def key_url(self) -> str:
        """Where its keys come from: the JWKS URL, or the discovery document's URL."""
        return "" if self.public_key else (self.jwks_url or self.discovery_url)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Issuer:
        """An issuer from one (parsed) ``HARDENING_JWT_ISSUERS`` entry and its preset."""
        kind = str(data.get("preset") or "oidc")
        issuer = str(data.get("issuer") or "")
        url, key = str(data.get("jwks_url") or ""), str(data.get("public_key") or "")
        required: tuple[str, ...] = REQUIRED_CLAIMS
        if kind == "clerk":
            issuer = issuer.rstrip("/")
            required += ("sid",)
            if not url and not key and issuer:
                url = issuer + "/.well-known/jwks.json"
        discovered = discovery_url(issuer) if issuer and not url and not key else ""

        def strings(name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
            value = data.get(name)
            return default if value is None else tuple(str(item) for item in value)

        return cls(
            label=str(data.get("label") or kind),
            kind=kind,
            issuer=issuer,
            jwks_url=url,
            public_key=key,
            discovery_url=discovered,
            algorithms=strings("algorithms", ("RS256",)),
            audience=strings("audience"),
            authorized_parties=strings("authorized_parties"),
            required_claims=strings("required_claims", required),
            allow_pending=bool(data.get("allow_pending", False)),
            session_cookie=bool(data.get("session_cookie", False)),
            types=tuple(t.lower() for t in strings("types", DEFAULT_TYPES)),
            max_lifetime=int(data.get("max_lifetime") or MAX_LIFETIME),
            secret_key=str(data.get("secret_key") or ""),
            publishable_key=str(data.get("publishable_key") or ""),
            machine_tokens=bool(data.get("machine_tokens", False)),
            api_url=str(data.get("api_url") or CLERK_API_URL).rstrip("/"),
        )


class StaticKey:
    """A PEM public key (``"public_key"``): networkless verification, any ``kid``."""

    def __init__(self, pem: str) -> None:
        try:
            key = load_pem_public_key(pem.encode())
        except (ValueError, TypeError):
            raise KeyLookupError("bad_public_key") from None
        if isinstance(key, rsa.RSAPublicKey):
            kty = "RSA"
        elif isinstance(key, ec.EllipticCurvePublicKey):
            kty = "EC"
        else:
            kty = "OKP"
        self.key = SigningKey(None, kty, None, key)

    def get(self, kid: str) -> SigningKey:
        return self.key


@functools.cache
def configured() -> tuple[Issuer, ...]:
    """Every configured issuer (broken ones too: the system checks report them)."""
    return tuple(Issuer.from_dict(item) for item in conf.HARDENING_JWT_ISSUERS)


def issuer_for(iss: str) -> Issuer | None:
    """The trusted issuer whose ``iss`` is exactly ``iss``."""
    for candidate in configured():
        if candidate.issuer and candidate.issuer == iss:
            return candidate
    return None


def machine_issuer() -> Issuer | None:
    """The Clerk issuer whose opaque machine tokens are accepted (the first with
    ``machine_tokens``: an opaque token does not say which instance made it)."""
    for candidate in configured():
        if candidate.kind == "clerk" and candidate.machine_tokens:
            return candidate
    return None


def reads_session_cookie() -> bool:
    """Does an issuer accept Clerk's ``__session`` cookie (``"session_cookie": True``)?"""
    return any(issuer.session_cookie for issuer in configured())


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("HARDENING_JWT_ISSUERS", "HARDENING_ENVIRONMENT"):
        configured.cache_clear()


# -- the user a verified token of another issuer stands for ------------------------------


class ClaimsUser:
    """An authenticated user that exists only in a verified token
    (``HARDENING_JWT_USER_MODE = "stateless"``, the default: no database hit per request)."""

    is_active = True
    is_staff = False
    is_superuser = False
    is_anonymous = False
    is_authenticated = True

    def __init__(self, claims: dict[str, Any], kind: str) -> None:
        self.claims = claims
        self.kind = kind
        self.pk = self.id = self.username = str(claims["sub"])

    def __str__(self) -> str:
        return self.username

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClaimsUser) and (other.kind, other.pk) == (self.kind, self.pk)

    def __hash__(self) -> int:
        return hash((self.kind, self.pk))

    def get_username(self) -> str:
        return self.username

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return False

    def has_perms(self, perms: Any, obj: object = None) -> bool:
        return False

    def has_module_perms(self, module: str) -> bool:
        return False


def clerk_claims(claims: dict[str, Any], issuer: Issuer) -> None:
    """A Clerk session token's ``sts`` and ``sid`` rules; the v2 ``o`` claim expanded."""
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


def machine_jwt(payload: dict[str, Any], issuer: Issuer) -> bool:
    """A Clerk M2M token issued as a JWT: no ``sid``, its ``sub`` a machine (``mch_...``);
    only from a Clerk issuer with ``machine_tokens``."""
    sub = payload.get("sub")
    clerk = issuer.kind == "clerk" and issuer.machine_tokens
    return clerk and "sid" not in payload and isinstance(sub, str) and sub.startswith("mch_")


def machine(claims: dict[str, Any], issuer: Issuer) -> bool:
    """Are ``claims`` a Clerk machine's (an M2M JWT, or an opaque token verified by the
    Backend API, :mod:`hardening.jwt.machine`)?"""
    opaque = issuer.machine_tokens and claims.get("token_type") in MACHINE_TOKEN_TYPES
    return bool(opaque) or machine_jwt(claims, issuer)


#: ``token_type`` of the claims made from an opaque machine token (hardening.jwt.machine).
MACHINE_TOKEN_TYPES = frozenset({"api_key", "oauth_token", "m2m_token"})


def _cached_pk(key: str) -> Any:
    """The cached primary key, or None (also while the cache is down: the breaker skips it
    and the user is looked up in the database)."""
    try:
        return GuardedCache(core.HARDENING_CACHE).get(key)
    except Exception:
        return None


def external_user(claims: dict[str, Any], issuer: Issuer) -> Any:
    """A :class:`ClaimsUser`, or with ``USER_MODE = "create"`` a real user row found or
    created by ``"<issuer label>:<sub>"`` as username (its primary key cached for five
    minutes, so the steady state costs one primary-key query, like own tokens)."""
    if conf.HARDENING_JWT_USER_MODE != "create" or machine(claims, issuer):
        return ClaimsUser(claims, issuer.kind)  # machines never get a user row
    model = get_user_model()
    username = f"{issuer.label}:{claims['sub']}"[: getattr(model, "USERNAME_MAX", 150)]
    cache_key = "hardening:jwt:user:" + hashlib.sha256(username.encode()).hexdigest()
    pk = _cached_pk(cache_key)
    if pk is not None:  # the username is checked too: a stale entry never names another user
        found = {"pk": pk, model.USERNAME_FIELD: username}
        user = model._default_manager.filter(**found).first()
        if user is not None and user.is_active:
            return user
    user, _ = model._default_manager.get_or_create(
        **{model.USERNAME_FIELD: username}, defaults={"password": make_password(None)}
    )
    if not user.is_active:
        raise TokenRejected("user", issuer.kind)
    with contextlib.suppress(Exception):  # best effort: the database stays the truth
        GuardedCache(core.HARDENING_CACHE).set(cache_key, user.pk, USER_CACHE_SECONDS)
    return user
