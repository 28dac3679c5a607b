"""Security audit events: one function, one signal, one logger.

    from hardening.observability.audit import audit
    audit("mfa.replay", request=request, user_id=user.pk, device_id=device.pk)

Every event is logged on the ``hardening.audit`` logger (INFO, or WARNING for failures)
with ``event``, the request ID and the given fields -- as one JSON line when ``LOGGING``
comes from :func:`hardening.env.logging_config` -- and sent as the
:data:`security_event` signal so a project can persist events.  Never pass secrets,
tokens, passwords or codes as fields: they would be written to the log.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import Signal
from django.http import HttpRequest

from hardening.context import current_request_id
from hardening.request import state

logger = logging.getLogger("hardening.audit")

#: ``sender`` is ``"hardening"``; kwargs ``event`` (str), ``request`` (HttpRequest or
#: None), ``request_id`` (str or None) and ``fields`` (dict).
security_event = Signal()

#: Known events and whether they are failures (logged at WARNING).
EVENTS: dict[str, bool] = {
    "auth.succeeded": False,
    "auth.failed": True,
    "auth.locked": True,
    "token.rejected": True,
    "token.issued": False,
    "token.revoked": False,
    "token.reuse_detected": True,
    "apikey.created": False,
    "apikey.rejected": True,
    "apikey.revoked": False,
    "apikey.rotated": False,
    "mfa.enrolled": False,
    "mfa.verified": False,
    "mfa.failed": True,
    "mfa.replay": True,
    "mfa.disabled": False,
    "mfa.reset": False,
    "mfa.throttled": True,
    "mfa.recovery_code_used": False,
    "mfa.recovery_codes_regenerated": False,
    "mfa.passkey_challenge": False,
    "mfa.passkey_registered": False,
    "mfa.passkey_verified": False,
    "mfa.passkey_failed": True,
    "mfa.passkey_cloned": True,
    "mfa.passkey_removed": False,
    "mfa.trusted_device_added": False,
    "mfa.trusted_device_used": False,
    "mfa.trusted_device_revoked": False,
    "ratelimit.limited": True,
    "ratelimit.banned": True,
    "ratelimit.unbanned": False,
    "ratelimit.cache_error": True,
    "timeout.exceeded": True,
    "health.failed": True,
    "request.rejected": True,
    "metrics.denied": True,
    "websocket.connected": False,
    "websocket.refused": True,
    "websocket.reauthenticated": False,
    "websocket.closed": False,
}


def _client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return state(request).client_ip or None


def audit(event: str, *, request: HttpRequest | None = None, **fields: Any) -> None:
    """Record a security event (see :data:`EVENTS` for the names hardening uses)."""
    request_id = current_request_id()
    user = getattr(request, "user", None) if request is not None else None
    if not getattr(user, "is_authenticated", False) and request is not None:
        user = state(request).bearer_user  # a bearer token outside the API paths
    if user is not None and getattr(user, "is_authenticated", False):
        fields.setdefault("user_id", str(user.pk))
    ip = _client_ip(request)
    if ip:
        fields.setdefault("client_ip", ip)
    level = logging.WARNING if EVENTS.get(event, False) else logging.INFO
    logger.log(
        level,
        "security event %s",
        event,
        extra={"event": event, "audit": fields, "request_id": request_id},
    )
    security_event.send(
        sender="hardening", event=event, request=request, request_id=request_id, fields=fields
    )
