"""API keys for machines: ``hk_<env>_<public id>_<secret>``, stored as HMAC-SHA-256, read
by ``CredentialMiddleware`` and ``hardening.authentication.ApiKeyAuthentication``
(docs/apikeys.md).

    from hardening.apikeys import create_key, revoke, rotate

    row, key = create_key(user=alice, scopes=["orders:read"])  # hand ``key`` over once
"""

from __future__ import annotations

from hardening.apikeys.keys import KeyRejected, create_key, revoke, rotate

__all__ = ["KeyRejected", "create_key", "revoke", "rotate"]
