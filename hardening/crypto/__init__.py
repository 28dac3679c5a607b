"""Field encryption with key rotation (Fernet / MultiFernet), and encrypted model fields.

``HARDENING_FIELD_ENCRYPTION_KEYS`` (a core setting, :mod:`hardening.conf.core`) is a list
of Fernet keys: the first encrypts, all decrypt.  To rotate, put a new key first, deploy, then run
``manage.py reencrypt_fields`` (every encrypted field of every model, and the MFA secrets) and
finally drop the old key.

    token = encrypt("JBSWY3DPEHPK3PXPJBSWY3DP")
    decrypt(token)  # -> "JBSWY3DPEHPK3PXPJBSWY3DP"

Model fields for users' own secrets (an exchange API key, a webhook secret)::

    from hardening.crypto import EncryptedJSONField, EncryptedTextField

    class ExchangeAccount(models.Model):
        api_secret = EncryptedTextField()
        extra = EncryptedJSONField(default=dict)

The column holds a Fernet token; the Python value is the plaintext, as a ``str`` (or JSON
value) whose ``repr`` is masked (``<encrypted>``), so it stays out of ``%r`` logs and the
debug page's locals (Sentry gets no locals from ``init_sentry``); the admin shows a password
box that never renders the value (leave it empty to keep it).  Limits: no lookups but
``isnull`` (Fernet is randomised: equal plaintexts give different tokens), no ordering, no
indexes or uniqueness; a row that decrypts with no configured key raises
:class:`DecryptionError` when it is loaded.

A plaintext column becomes an encrypted field with :func:`encrypt_plaintext` in a migration.

Modules: ``keys`` (Fernet, rotation), ``fields`` (the model fields), ``migrate`` (the
migration operation), all internal; the public names are this module's ``__all__``
(docs/api.md).
"""

from __future__ import annotations

from hardening.crypto.fields import (
    CIPHERTEXT_COLUMNS,
    EncryptedJSONField,
    EncryptedTextField,
)
from hardening.crypto.keys import DecryptionError, decrypt, encrypt, fernet, needs_rotation, rotate
from hardening.crypto.migrate import encrypt_plaintext

__all__ = [
    "CIPHERTEXT_COLUMNS",
    "DecryptionError",
    "EncryptedJSONField",
    "EncryptedTextField",
    "decrypt",
    "encrypt",
    "encrypt_plaintext",
    "fernet",
    "needs_rotation",
    "rotate",
]
