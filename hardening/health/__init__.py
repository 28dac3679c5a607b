"""Liveness and readiness probes on django-health-check: 503 on failure, every check
bounded by a timeout, results cached briefly, details only for operators (docs/health.md).

Internal: import from hardening.<public module> (``hardening.urls``; docs/api.md).

Modules: ``conf`` (settings), ``probes`` (the built-in checks), ``plan`` (which checks run:
``HARDENING_HEALTH_CHECKS``), ``runner`` (timeouts, single flight, the result cache),
``views``, ``urls``, ``checks``.
"""
