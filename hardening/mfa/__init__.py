"""Multi-factor authentication (TOTP, passkeys), trusted devices and the per-account
lockout (see docs/mfa.md, docs/passkeys.md).

Internal: import from hardening.<public module> (docs/api.md).

Modules: ``conf`` (settings), ``devices`` (verification, replay, back-off), ``recovery``
(recovery codes), ``attempts`` (a factor's attempt with every limit), ``login`` (the JWT
login step, code or passkey), ``policy`` (the one place the MFA rule is
decided; ``permissions``, ``decorators`` and ``middleware`` ask it), ``throttle`` (per-user
and per-IP limits), ``lockout`` (per-account lock), ``api`` and ``page`` (enrollment),
``signin`` (the session login), ``passkeys`` (WebAuthn ceremonies on py_webauthn),
``challenges`` (their single-use challenges), ``passkey_views`` and ``passkey_login``
(their endpoints; ``endpoints``: what the endpoints share), ``trusted`` (trusted browsers),
``checks``.
"""
