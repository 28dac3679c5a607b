"""Encrypted model fields (public as ``hardening.crypto.EncryptedTextField`` /
``EncryptedJSONField``; see the package's docstring and docs/encryption.md)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from django.db.models.query_utils import DeferredAttribute

from hardening.crypto.keys import decrypt, encrypt

MASK = "<encrypted>"
#: Columns that hold a Fernet token themselves (a plain ``TextField``), re-encrypted by
#: ``manage.py reencrypt_fields`` next to every :class:`EncryptedTextField` /
#: :class:`EncryptedJSONField`: ``(app_label.ModelName, field name)``.
CIPHERTEXT_COLUMNS: list[tuple[str, str]] = [("hardening.TOTPDevice", "encrypted_secret")]


class SecretStr(str):
    """A decrypted value: a ``str`` whose ``repr`` does not show it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return MASK


class SecretDict(dict[str, Any]):
    def __repr__(self) -> str:
        return MASK


class SecretList(list[Any]):
    def __repr__(self) -> str:
        return MASK


class Ciphertext(str):
    """A value that is already a Fernet token: written as it is (re-encryption, migrations)."""

    __slots__ = ()


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return SecretStr(value)
    if isinstance(value, dict):
        return SecretDict(value)
    if isinstance(value, list):
        return SecretList(value)
    return value


class _SecretInput(forms.PasswordInput):
    """Never renders the stored value (the admin, any ModelForm)."""

    def __init__(self) -> None:
        super().__init__(
            render_value=False,
            attrs={"autocomplete": "off", "placeholder": "stored encrypted; empty keeps it"},
        )


class _MaskedAttribute(DeferredAttribute):
    """Whatever is assigned to an encrypted field is held masked (``repr`` hides it)."""

    def __set__(self, instance: Any, value: Any) -> None:
        instance.__dict__[self.field.attname] = _masked(value)


def is_encrypted(field: Any) -> bool:
    """Is ``field`` one of the encrypted model fields?"""
    return isinstance(field, _EncryptedMixin)


class _EncryptedMixin:
    """What both fields share: no lookups but ``isnull``, no index, a masked form field."""

    descriptor_class: type = _MaskedAttribute

    #: The only lookup that means something on a randomised ciphertext.
    ALLOWED_LOOKUPS = frozenset({"isnull"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        for option in ("primary_key", "unique", "db_index"):
            if kwargs.get(option):
                raise ImproperlyConfigured(f"An encrypted field cannot have {option}=True.")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()  # type: ignore[misc]
        # Migrations name the public path, whichever module the class lives in.
        return name, path.replace("hardening.crypto.fields.", "hardening.crypto."), args, kwargs

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in self.ALLOWED_LOOKUPS:
            return None  # FieldError: "Unsupported lookup"
        return super().get_lookup(lookup_name)  # type: ignore[misc]

    def get_transform(self, lookup_name: str) -> Any:
        return None

    def save_form_data(self, instance: Any, data: Any) -> None:
        attname = self.attname  # type: ignore[attr-defined]
        if data in ("", None) and getattr(instance, attname, None) not in ("", None):
            return  # the masked box was left empty: keep the stored value
        super().save_form_data(instance, data)  # type: ignore[misc]


class EncryptedTextField(_EncryptedMixin, models.TextField):  # type: ignore[type-arg]
    """Text stored as a Fernet token (``HARDENING_FIELD_ENCRYPTION_KEYS``)."""

    description = "Text encrypted with HARDENING_FIELD_ENCRYPTION_KEYS"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return None if value is None else SecretStr(decrypt(value))

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, SecretStr):
            return value
        return SecretStr(str(value))

    def get_prep_value(self, value: Any) -> Any:
        if value is None or isinstance(value, Ciphertext):
            return None if value is None else str(value)
        return encrypt(str(value))

    def formfield(self, **kwargs: Any) -> Any:
        # The widget is never the caller's (the admin maps TextField to a textarea).
        kwargs = {"strip": False, "required": False, **kwargs, "widget": _SecretInput}
        return super().formfield(**kwargs)


class EncryptedJSONField(_EncryptedMixin, models.TextField):  # type: ignore[type-arg]
    """A JSON value stored as a Fernet token of its JSON text."""

    description = "A JSON value encrypted with HARDENING_FIELD_ENCRYPTION_KEYS"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return None if value is None else _masked(json.loads(decrypt(value)))

    def to_python(self, value: Any) -> Any:
        # A plain str is the JSON text of value_to_string, from the serializers (loaddata):
        # values held on a model are masked (a str value is a SecretStr).
        if type(value) is str:
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ValidationError("Enter valid JSON.", code="invalid") from exc
        return _masked(value)

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, Ciphertext):
            return str(value)
        return encrypt(json.dumps(value, separators=(",", ":"), ensure_ascii=False))

    def value_to_string(self, obj: Any) -> str:
        return json.dumps(self.value_from_object(obj))

    def formfield(self, **kwargs: Any) -> Any:
        kwargs = {"form_class": forms.JSONField, "required": False, **kwargs}
        return super().formfield(**{**kwargs, "widget": _SecretInput})
