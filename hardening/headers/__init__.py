"""Security headers Django lacks: CSP (on Django 5.2), Permissions-Policy, CORP, COEP,
``Cache-Control: no-store`` for API and authentication responses, ``Clear-Site-Data`` on
logout (see docs/headers.md).

Internal: import from hardening.<public module> (``hardening.middleware``; docs/api.md).

Modules: ``conf`` (settings), ``csp`` (policies, the nonce), ``policies``
(Permissions-Policy), ``middleware``, ``context_processors`` (``{{ csp_nonce }}``),
``checks`` (every security-header check: E019–E021, E608–W611, E614).
"""
