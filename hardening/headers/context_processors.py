"""``csp_nonce`` in templates on Django 5.2 and 6.x alike.

Add ``"hardening.context_processors.csp"`` to the template context processors
and write ``<script nonce="{{ csp_nonce }}">``, as with Django 6's
``django.template.context_processors.csp``.  The nonce is generated on first use only.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from hardening.request import state


def csp(request: HttpRequest) -> dict[str, Any]:
    # SecurityHeadersMiddleware keeps the nonce in request.hardening (wrapping Django 6's
    # when its CSP middleware runs); Django's middleware alone keeps it in _csp_nonce.
    nonce = state(request).csp_nonce or getattr(request, "_csp_nonce", None)
    return {"csp_nonce": nonce if nonce is not None else ""}
