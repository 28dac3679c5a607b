"""Scopes, roles and Clerk organisation permissions, read the same way from every credential
(public through :mod:`hardening.permissions`).

* **Scopes** (:func:`scopes_of`): an API key's scopes; a token's ``scope`` claim (OAuth 2.0,
  space-separated), ``scp`` (Okta, Azure: a list or a string) or ``scopes`` (a list).  A
  session has none.
* **Roles** (:func:`roles_of`): a token's ``roles`` (list or string), ``role``,
  ``realm_access.roles`` (Keycloak) and Clerk's ``org_role``; for a session login (no token),
  the names of the user's Django groups.
* **Clerk organisation permissions** (:func:`org_permissions_of`): ``org_permissions`` (v1
  claims; the v2 ``o.per`` is expanded to it by ``hardening.jwt``), and the role ``org_role``.

The DRF permission factories return classes (``permission_classes = [HasScope("orders:write")]``;
they combine with ``|`` and ``&`` like any DRF permission).  A refusal is 403
``{"error": "insufficient_scope", "detail": "This action needs the scope 'orders:write'.", ...}``
(``insufficient_role``, ``insufficient_permission`` likewise), naming what is missing.
Matching is exact: ``orders:*`` is a scope like any other, not a wildcard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from hardening.request import state

#: Every scope named by a permission made here (``hardening.W801`` compares them with the
#: credentials that can carry scopes).
USED_SCOPES: set[str] = set()


def claims_of(request: Any) -> Mapping[str, Any]:
    """The verified claims of the request's credential (DRF ``request.auth`` or
    ``request.hardening.credential``), or an empty mapping."""
    credential = state(request).credential
    if credential is not None:
        return credential.claims
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, Mapping) else {}


def _strings(value: Any) -> set[str]:
    if isinstance(value, str):
        return {part for part in value.replace(",", " ").split() if part}
    if isinstance(value, list | tuple | set | frozenset):
        return {item for item in value if isinstance(item, str) and item}
    return set()


def scopes_of(request: Any) -> frozenset[str]:
    credential = state(request).credential
    found: set[str] = set(credential.scopes) if credential is not None else set()
    claims = claims_of(request)
    if isinstance(claims.get("scope"), str):
        found |= set(claims["scope"].split())
    found |= _strings(claims.get("scp")) | _strings(claims.get("scopes"))
    return frozenset(found)


def roles_of(request: Any) -> frozenset[str]:
    claims = claims_of(request)
    if not claims:
        user: Any = getattr(request, "user", None)
        groups = getattr(user, "groups", None)
        if groups is None or not getattr(user, "is_authenticated", False):
            return frozenset()
        return frozenset(str(name) for name in groups.values_list("name", flat=True))
    found = _strings(claims.get("roles")) | _strings(claims.get("role"))
    realm = claims.get("realm_access")
    if isinstance(realm, Mapping):
        found |= _strings(realm.get("roles"))
    found |= _org_roles(claims)
    return frozenset(found)


def _org_roles(claims: Mapping[str, Any]) -> set[str]:
    role = claims.get("org_role")
    return {role, role.removeprefix("org:")} if isinstance(role, str) and role else set()


def org_permissions_of(request: Any) -> frozenset[str]:
    return frozenset(_strings(claims_of(request).get("org_permissions")))


def _names(kind: str, names: Iterable[str]) -> tuple[str, ...]:
    found = tuple(str(name) for name in names)
    if not found or not all(found):
        raise ValueError(f"{kind} needs at least one non-empty name")
    return found


def _deny(permission: Any, code: str, what: str, missing: Iterable[str], any_of: bool) -> bool:
    names = sorted(missing)
    listed = ", ".join(repr(name) for name in names)
    if any_of and len(names) > 1:
        permission.message = f"This action needs one of the {what}s {listed}."
    else:
        plural = "s" if len(names) > 1 else ""
        permission.message = f"This action needs the {what}{plural} {listed}."
    permission.code = code
    return False


#: Credential kinds of machines (``HasScope(..., machines_only=True)`` asks only them).
MACHINE_KINDS = frozenset({"api_key", "clerk_machine"})


def _factory(
    name: str,
    required: tuple[str, ...],
    code: str,
    what: str,
    read: Any,
    *,
    any_of: bool,
    machines_only: bool = False,
) -> type[BasePermission]:
    def has_permission(self: BasePermission, request: Request, view: Any) -> bool:
        if machines_only and state(request).auth_kind not in MACHINE_KINDS:
            return True
        held = read(request)
        if any_of:
            return bool(held & set(required)) or _deny(self, code, what, required, True)
        missing = set(required) - held
        return not missing or _deny(self, code, what, missing, False)

    attributes = {
        "required": required,
        "message": f"This action needs the {what} {', '.join(map(repr, required))}.",
        "code": code,
        "has_permission": has_permission,
    }
    return type(name, (BasePermission,), attributes)


def HasScope(*scopes: str, machines_only: bool = False) -> type[BasePermission]:  # noqa: N802
    """Every one of ``scopes`` (403 ``insufficient_scope`` naming the missing ones).

    ``machines_only``: demand them of machine credentials only (API keys, Clerk machine
    tokens); people's sessions and tokens pass (give them roles).  Unlike
    ``HasScope(...) | IsPerson``, a refusal still names the missing scope (DRF's ``|`` keeps
    no message)."""
    required = _names("HasScope", scopes)
    USED_SCOPES.update(required)
    return _factory(
        "HasScope",
        required,
        "insufficient_scope",
        "scope",
        scopes_of,
        any_of=False,
        machines_only=machines_only,
    )


def HasAnyScope(*scopes: str, machines_only: bool = False) -> type[BasePermission]:  # noqa: N802
    """At least one of ``scopes`` (``machines_only`` as for :func:`HasScope`)."""
    required = _names("HasAnyScope", scopes)
    USED_SCOPES.update(required)
    return _factory(
        "HasAnyScope",
        required,
        "insufficient_scope",
        "scope",
        scopes_of,
        any_of=True,
        machines_only=machines_only,
    )


def HasRole(*roles: str) -> type[BasePermission]:  # noqa: N802
    """At least one of ``roles`` (token roles, Clerk ``org_role``, or a session user's
    Django groups)."""
    required = _names("HasRole", roles)
    return _factory("HasRole", required, "insufficient_role", "role", roles_of, any_of=True)


def HasOrgPermission(*permissions: str) -> type[BasePermission]:  # noqa: N802
    """Every one of the Clerk organisation ``permissions`` (``org:invoices:create``)."""
    required = _names("HasOrgPermission", permissions)
    return _factory(
        "HasOrgPermission",
        required,
        "insufficient_permission",
        "organisation permission",
        org_permissions_of,
        any_of=False,
    )


def HasOrgRole(*roles: str) -> type[BasePermission]:  # noqa: N802
    """At least one of the Clerk organisation ``roles`` (``org:admin`` or ``admin``)."""
    required = _names("HasOrgRole", roles)

    def read(request: Any) -> frozenset[str]:
        return frozenset(_org_roles(claims_of(request)))

    return _factory(
        "HasOrgRole", required, "insufficient_role", "organisation role", read, any_of=True
    )
