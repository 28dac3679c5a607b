"""Request IDs, JSON logging, audit events, Prometheus counters, the ``/metrics`` view and
Sentry set-up (docs/observability.md).

Internal: import from hardening.<public module> (``hardening.middleware``, ``hardening.audit``,
``hardening.env``, ``hardening.urls``; docs/api.md).
"""
