"""Helpers shared by the tests: one fake clock (``clock``), check helpers and production
settings (``checks``), JSON requests (``http``), hostile JSON bodies and the 4xx check
(``hostile``), MFA and rate-limit helpers (``mfa``, ``ratelimit``: also a session and a burst
for server tests), WebAuthn vectors (``webauthn``), a Redis Cluster (``cluster``), the lease
model (``leasemodel``), disposable PostgreSQL and Redis servers (``services``), the public
surface (``api``) and docs snippets (``docs``)."""
