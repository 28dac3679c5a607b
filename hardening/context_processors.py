"""Template context processors: ``csp`` gives templates ``csp_nonce`` (the response's
Content-Security-Policy nonce) on Django 5.2 and 6.x alike::

    "context_processors": [..., "hardening.context_processors.csp"]
"""

from __future__ import annotations

from hardening.headers.context_processors import csp

__all__ = ["csp"]
