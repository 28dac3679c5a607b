"""Helpers shared by the tests: one fake clock (``clock``), check helpers and production
settings (``checks``), JSON requests (``http``), MFA and rate-limit helpers, disposable
PostgreSQL and Redis servers (``services``), the public surface (``api``) and docs snippets."""
