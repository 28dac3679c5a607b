"""Fernet keys of HARDENING_FIELD_ENCRYPTION_KEYS: empty or malformed settings, rotation, and
ciphertexts no configured key decrypts (hardening.crypto.keys)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from hardening import crypto

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


@pytest.mark.parametrize("keys", [[], ()])
def test_no_keys_is_improperly_configured_naming_the_check(keys: list[str]) -> None:
    with override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=keys):
        with pytest.raises(ImproperlyConfigured, match=r"empty \(hardening\.E047\)"):
            crypto.encrypt("x")
        with pytest.raises(ImproperlyConfigured, match="E047"):
            crypto.decrypt(Fernet(OLD).encrypt(b"x").decode())
        assert crypto.needs_rotation("anything") is False  # nothing to rotate to


@pytest.mark.parametrize("bad", ["not-a-fernet-key", "k" * 44, "é" * 44])
def test_a_malformed_key_is_improperly_configured_naming_the_check(bad: str) -> None:
    with (
        override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[NEW, bad]),
        pytest.raises(ImproperlyConfigured, match=r"malformed key \(hardening\.E048\)"),
    ):
        crypto.fernet()


def test_the_first_key_encrypts_and_every_key_decrypts() -> None:
    with override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[OLD]):
        old_token = crypto.encrypt("sécret")
        assert crypto.needs_rotation(old_token) is False
    with override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        assert crypto.decrypt(old_token) == "sécret"
        assert crypto.needs_rotation(old_token) is True
        new_token = crypto.rotate(old_token)
        assert new_token != old_token and crypto.needs_rotation(new_token) is False
        assert Fernet(NEW).decrypt(new_token.encode()).decode() == "sécret"
        assert crypto.needs_rotation(crypto.encrypt("y")) is False
    with override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[NEW]):
        assert crypto.decrypt(new_token) == "sécret"  # the old key can go


@pytest.mark.parametrize(
    "token",
    [
        Fernet(Fernet.generate_key()).encrypt(b"x").decode(),  # another key
        "not a token",
        "ünïcode",  # not even ASCII
        "",
    ],
)
def test_a_ciphertext_no_key_decrypts_is_a_decryption_error(token: str) -> None:
    with override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        with pytest.raises(crypto.DecryptionError, match="any configured key"):
            crypto.decrypt(token)
        with pytest.raises(crypto.DecryptionError, match="any configured key"):
            crypto.rotate(token)
        assert crypto.needs_rotation(token) is True  # not under the newest key


def test_tampering_is_detected() -> None:
    with override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[NEW]):
        token = crypto.encrypt("amount=10")
        flipped = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(flipped)
