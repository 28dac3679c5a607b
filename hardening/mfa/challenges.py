"""Server-side WebAuthn challenges: random, single use, bound, short-lived.

A challenge is 32 random bytes; only its SHA-256 is stored
(:class:`~hardening.mfa.models.WebAuthnChallenge`), with its purpose (``register``,
``mfa``, ``login``), what it is bound to (a SHA-256 of the session's random value, of an
``mfa_token``, of a bearer token's ``jti`` or of a passwordless ``ceremony`` handle) and its
expiry, :data:`CHALLENGE_TTL` seconds.  The client's signed ``clientDataJSON`` names the
challenge; :func:`consume` deletes the matching row, so a challenge is used once even under
concurrency, and a challenge of another session, token or purpose matches no row.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from hardening import clock
from hardening.mfa.models import WebAuthnChallenge

#: Seconds a challenge stays valid (the issue's bound: 5 minutes).
CHALLENGE_TTL = 300
#: Pending challenges kept per binding (older ones are dropped).
MAX_PENDING = 5
#: Longest credential id accepted (base64url of the 1023 bytes WebAuthn allows).
MAX_ID_LENGTH = 1400


class PasskeyError(Exception):
    """A refused ceremony; ``reason`` is from a fixed set (metric label, audit field):
    ``unavailable``, ``challenge``, ``unknown_credential``, ``invalid``, ``sign_count``,
    ``duplicate``, ``bad_request``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _digest(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


def binding_of(value: str) -> str:
    """What a challenge is bound to, as stored: a SHA-256 of ``value``."""
    return _digest(value.encode("utf-8"))


def issue(purpose: str, binding: str, user: Any | None) -> bytes:
    now = clock.now()
    WebAuthnChallenge.objects.filter(expires_at__lte=now).delete()  # housekeeping
    older = WebAuthnChallenge.objects.filter(binding=binding).order_by("-expires_at")
    stale = list(older.values_list("pk", flat=True)[MAX_PENDING - 1 :])
    WebAuthnChallenge.objects.filter(pk__in=stale).delete()
    challenge = secrets.token_bytes(32)
    WebAuthnChallenge.objects.create(
        challenge_hash=_digest(challenge),
        purpose=purpose,
        binding=binding,
        user=user,
        expires_at=now + CHALLENGE_TTL,
    )
    return challenge


def client_challenge(credential: dict[str, Any]) -> bytes:
    from webauthn.helpers import base64url_to_bytes

    try:
        raw = credential["response"]["clientDataJSON"]
        data = json.loads(base64url_to_bytes(raw)) if len(raw) < 8192 else None
        challenge = data["challenge"] if isinstance(data, dict) else None
        if not isinstance(challenge, str) or not 0 < len(challenge) <= 256:
            raise PasskeyError("bad_request")
        return base64url_to_bytes(challenge)
    except (KeyError, TypeError, ValueError):
        raise PasskeyError("bad_request") from None


def consume(purpose: str, binding: str, credential: dict[str, Any], user: Any = None) -> bytes:
    """Spend the challenge the client signed, if it is ours, unexpired, for ``purpose``,
    bound to ``binding`` (and issued for ``user``); return it, else raise ``challenge``."""
    challenge = client_challenge(credential)
    rows = WebAuthnChallenge.objects.filter(
        challenge_hash=_digest(challenge),
        purpose=purpose,
        binding=binding,
        expires_at__gt=clock.now(),
    )
    if user is not None:
        rows = rows.filter(user=user)
    deleted, _ = rows.delete()
    if deleted != 1:
        raise PasskeyError("challenge")
    return challenge


def credential_dict(value: Any) -> dict[str, Any]:
    """The client's ``PublicKeyCredential`` JSON, shape-checked before the library sees it."""
    if not isinstance(value, dict) or not isinstance(value.get("response"), dict):
        raise PasskeyError("bad_request")
    cred_id = value.get("id")
    if not isinstance(cred_id, str) or not 0 < len(cred_id) <= MAX_ID_LENGTH:
        raise PasskeyError("bad_request")
    if len(json.dumps(value)) > 64_000:
        raise PasskeyError("bad_request")
    return value
