"""``reencrypt_mfa_secrets``: the earlier name of ``reencrypt_fields``, which re-encrypts
every encrypted field of every model (the TOTP secrets among them) with the newest key."""

from __future__ import annotations

from hardening.management.commands.reencrypt_fields import Command as ReencryptFields


class Command(ReencryptFields):
    help = "Re-encrypt every encrypted field (MFA secrets included); see reencrypt_fields."
