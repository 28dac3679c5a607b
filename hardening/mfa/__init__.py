"""TOTP multi-factor authentication (see docs/mfa.md).

Modules: ``devices`` (verification, replay, back-off), ``recovery`` (recovery codes),
``login`` (the JWT login step), ``policy`` / ``permissions`` / ``decorators`` /
``middleware`` (who must pass MFA), ``api`` and ``page`` (enrollment), ``checks``.
"""
