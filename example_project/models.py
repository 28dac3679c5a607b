"""The example's own model: a user's credential for a third-party service (an exchange API
key), its secret parts in encrypted fields (docs/encryption.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from hardening.crypto import EncryptedJSONField, EncryptedTextField


class ExchangeCredential(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exchange_credentials"
    )
    exchange = models.CharField(max_length=50)
    #: The exchange's key id: not secret on its own, kept encrypted anyway.
    api_key = EncryptedTextField()
    api_secret = EncryptedTextField()
    #: Anything else the exchange needs (a passphrase, a sub-account), as JSON.
    extra = EncryptedJSONField(default=dict, blank=True)
    #: The last four characters of the key, the only part the API ever shows.
    hint = models.CharField(max_length=4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.exchange} (…{self.hint})"
