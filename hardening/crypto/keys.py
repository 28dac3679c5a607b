"""Fernet encryption with key rotation: ``HARDENING_FIELD_ENCRYPTION_KEYS`` (a core setting,
:mod:`hardening.conf.core`) is a list of Fernet keys, the first encrypts, all decrypt.

The :class:`~cryptography.fernet.MultiFernet` built from the setting is cached and rebuilt
when the setting changes (``setting_changed``), so ``override_settings`` works.
"""

from __future__ import annotations

import functools
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from hardening.conf import conf as core


class DecryptionError(Exception):
    """The ciphertext was not made with any configured key (or was tampered with)."""


@functools.cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(
            "HARDENING_FIELD_ENCRYPTION_KEYS is empty (hardening.E047): set FIELD_ENCRYPTION_KEYS."
        )
    try:
        return MultiFernet([Fernet(key.encode("ascii")) for key in keys])
    except (ValueError, UnicodeEncodeError) as exc:
        raise ImproperlyConfigured(
            "HARDENING_FIELD_ENCRYPTION_KEYS holds a malformed key (hardening.E048)."
        ) from exc


def fernet() -> MultiFernet:
    """The MultiFernet for the configured keys (first encrypts, all decrypt)."""
    return _fernet(tuple(core.HARDENING_FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(ciphertext: str) -> str:
    try:
        return fernet().decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise DecryptionError("ciphertext does not decrypt with any configured key") from exc


def needs_rotation(ciphertext: str) -> bool:
    """True when ``ciphertext`` was not encrypted with the first (newest) key."""
    keys = core.HARDENING_FIELD_ENCRYPTION_KEYS
    if not keys:
        return False
    try:
        Fernet(keys[0].encode("ascii")).decrypt(ciphertext.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        return True
    return False


def rotate(ciphertext: str) -> str:
    """Re-encrypt ``ciphertext`` with the newest key (MultiFernet.rotate)."""
    try:
        return fernet().rotate(ciphertext.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise DecryptionError("ciphertext does not decrypt with any configured key") from exc


@receiver(setting_changed)
def _clear_cache(*, setting: str, **kwargs: Any) -> None:
    if setting == "HARDENING_FIELD_ENCRYPTION_KEYS":
        _fernet.cache_clear()
