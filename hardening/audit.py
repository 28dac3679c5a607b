"""Security audit events: one function, one signal, one logger (``hardening.audit``).

``audit(event, request=None, **fields)`` logs the event (WARNING for refusals and failures,
INFO otherwise) with the request ID, the user and the client address, and sends
``security_event`` so a project can forward events elsewhere::

    from hardening.audit import audit, security_event

    audit("export.requested", request=request, rows=1200)

Never pass secrets, codes or tokens as fields.
"""

from __future__ import annotations

from hardening.observability.audit import EVENTS, audit, security_event

__all__ = ["EVENTS", "audit", "security_event"]
