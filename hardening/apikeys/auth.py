"""API keys on requests: read once per request, into the same ``request.hardening``
credential as bearer tokens.

A key comes as ``Authorization: Api-Key <key>`` or in the :data:`HEADER` header.
:func:`authenticate` checks it at most once per request (``CredentialMiddleware`` and the
DRF class share the outcome through ``state(request)``): a valid key becomes a
:class:`~hardening.request.Credential` of kind ``"api_key"`` whose claims are ``sub`` (the
owner: the user's primary key, or ``service:<name>``), ``key_id`` (the public id) and
``scope`` (space-separated, as in OAuth); a rejection is counted, audited
(``apikey.rejected``) and kept in ``state(request).credential_error``.

:class:`ApiKeyAuthentication` (DRF) returns ``(user, claims)``, None for a request without
a key, and raises ``AuthenticationFailed`` (401, ``WWW-Authenticate: Api-Key``) for a key
that does not verify.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from hardening.apikeys.keys import KeyRejected, check_key
from hardening.apikeys.models import APIKey
from hardening.jwt.issuers import ClaimsUser
from hardening.observability.audit import audit
from hardening.observability.metrics import AUTH_FAILURES
from hardening.request import Credential, state

#: The header that may carry a key instead of ``Authorization: Api-Key <key>``.  A module
#: constant read on every request (the middleware and the DRF class both): a project that
#: needs another name assigns it once at start-up (``hardening.apikeys.auth.HEADER = ...``).
HEADER = "X-API-Key"
SCHEME = "api-key"
KIND = "api_key"
REALM = "api"


def _meta_name(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def presented(request: HttpRequest) -> str | None:
    """The key ``request`` carries (None: none), or :class:`KeyRejected` for an empty or
    ambiguous one (a key and another ``Authorization`` credential together)."""
    header = str(request.META.get("HTTP_AUTHORIZATION", ""))
    scheme, _, value = header.partition(" ")
    found = request.META.get(_meta_name(HEADER))
    extra = None if found is None else str(found)
    if scheme.lower() == SCHEME:
        if extra is not None:
            raise KeyRejected("ambiguous")
        if not value.strip():
            raise KeyRejected("malformed")
        return value.strip()
    if extra is None:
        return None
    if header:
        raise KeyRejected("ambiguous")
    if not extra.strip():
        raise KeyRejected("malformed")
    return extra.strip()


def may_have_key(request: HttpRequest) -> bool:
    """Cheap pre-test: no database, no hashing."""
    if _meta_name(HEADER) in request.META:
        return True
    return str(request.META.get("HTTP_AUTHORIZATION", ""))[:8].lower() == "api-key "


def credential_for(row: APIKey) -> Credential:
    scopes = [str(scope) for scope in row.scopes or ()]
    sub = f"service:{row.service}" if row.service else str(row.user_id)
    claims = {"sub": sub, "key_id": row.public_id, "scope": " ".join(scopes)}
    user = row.user if row.user is not None else ClaimsUser(claims, KIND)
    return Credential(KIND, user, claims, frozenset(scopes))


def authenticate(request: HttpRequest) -> Credential | None:
    """The request's API-key credential (None: no key sent), once per request; raise
    :class:`KeyRejected` when the key does not verify."""
    found = state(request)
    if isinstance(found.credential_error, KeyRejected):
        raise found.credential_error
    if found.bearer is not None and found.bearer.kind == KIND:
        return found.bearer
    try:
        key = presented(request)
        if key is None:
            return None
        row = check_key(key)
    except KeyRejected as exc:
        found.credential_error = exc
        AUTH_FAILURES.labels(reason=f"api_key_{exc.reason}").inc()
        audit("apikey.rejected", request=request, reason=exc.reason)
        raise
    found.bearer = credential_for(row)
    return found.bearer


def key_id(request: Any) -> str | None:
    """The public id of the API key that authenticated ``request`` (on any path), or None."""
    bearer = state(request).bearer
    if bearer is None or bearer.kind != KIND:
        return None
    return str(bearer.claims.get("key_id") or "") or None


def challenge(request: Any) -> str:
    """The ``WWW-Authenticate`` value for a request that sent a key."""
    if isinstance(state(request).credential_error, KeyRejected):
        return f'Api-Key realm="{REALM}", error="invalid_key"'
    return f'Api-Key realm="{REALM}"'


def sent_key(request: Any) -> bool:
    """Did the request send an API key (valid or not)?"""
    django_request = getattr(request, "_request", request)
    return isinstance(state(django_request).credential_error, KeyRejected) or may_have_key(
        django_request
    )


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Api-Key <key>`` or ``X-API-Key: <key>``.  ``request.auth`` is the
    key's claims (``sub``, ``key_id``, ``scope``); ``state(request).credential.kind`` is
    ``"api_key"``."""

    def authenticate(self, request: Request) -> tuple[Any, dict[str, Any]] | None:
        django_request = request._request
        try:
            credential = authenticate(django_request)
        except KeyRejected as exc:
            raise exceptions.AuthenticationFailed(
                f"The API key was rejected ({exc.reason}).", code="invalid_api_key"
            ) from None
        if credential is None:
            return None
        state(django_request).credential = credential
        return credential.user, dict(credential.claims)

    def authenticate_header(self, request: Request) -> str:
        return challenge(request)
