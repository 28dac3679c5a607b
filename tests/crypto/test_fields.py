"""Encrypted model fields: stored as Fernet tokens, masked in repr and the admin, no lookups,
re-encrypted by reencrypt_fields in batches, and the plaintext-column migration."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client, override_settings

from example_project.models import ExchangeCredential
from hardening import crypto
from hardening.crypto import EncryptedTextField, encrypt_plaintext
from hardening.crypto.fields import Ciphertext
from hardening.mfa.models import TOTPDevice
from tests.helpers.mfa import make_device

pytestmark = pytest.mark.django_db

SECRET = "sk-exchange-secret-0123456789"
OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


@pytest.fixture
def user() -> Any:
    return get_user_model().objects.create_user("erin")


def raw(pk: int, column: str) -> str:
    with connection.cursor() as cursor:
        table = ExchangeCredential._meta.db_table
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return str(cursor.fetchone()[0])


def make(user: Any, **extra: Any) -> ExchangeCredential:
    return ExchangeCredential.objects.create(
        user=user, exchange="kraken", api_key="AKID1234", api_secret=SECRET, hint="1234", **extra
    )


def test_stored_encrypted_and_read_back(user: Any) -> None:
    row = make(user, extra={"passphrase": "pp-9", "sub": ["a"]})
    stored = raw(row.pk, "api_secret")
    assert SECRET not in stored and crypto.decrypt(stored) == SECRET
    assert "pp-9" not in raw(row.pk, "extra")
    again = ExchangeCredential.objects.get(pk=row.pk)
    assert again.api_secret == SECRET and str(again.api_secret) == SECRET
    assert again.extra == {"passphrase": "pp-9", "sub": ["a"]}


def test_masked_in_repr_and_logs(user: Any, caplog: pytest.LogCaptureFixture) -> None:
    row = make(user, extra={"passphrase": "pp-9"})
    for value in (row, ExchangeCredential.objects.get(pk=row.pk)):
        assert SECRET not in repr(vars(value)) and "pp-9" not in repr(vars(value))
        assert repr(value.api_secret) == "<encrypted>"
        with caplog.at_level(logging.INFO):
            logging.getLogger("x").info("loaded %r", value.api_secret)
        assert SECRET not in caplog.text


def test_no_lookups_but_isnull(user: Any) -> None:
    make(user)
    with pytest.raises(FieldError):
        list(ExchangeCredential.objects.filter(api_secret=SECRET))
    with pytest.raises(FieldError):
        list(ExchangeCredential.objects.filter(api_secret__startswith="sk"))
    assert ExchangeCredential.objects.filter(api_secret__isnull=False).count() == 1
    with pytest.raises(ImproperlyConfigured):
        EncryptedTextField(unique=True)


def test_admin_never_renders_the_value(user: Any) -> None:
    from django.contrib import admin

    from example_project.admin import ExchangeCredentialAdmin

    assert isinstance(admin.site._registry[ExchangeCredential], ExchangeCredentialAdmin)
    row = make(user)
    root = get_user_model().objects.create_superuser("root", password="pw")
    client = Client()
    client.force_login(root)
    url = f"/admin/example_project/exchangecredential/{row.pk}/change/"
    page = client.get(url).content.decode()
    assert SECRET not in page and 'type="password"' in page
    # Saving with the box left empty keeps the secret.
    response = client.post(
        url,
        {"user": user.pk, "exchange": "kraken2", "api_key": "", "api_secret": "", "extra": ""},
    )
    assert response.status_code == 302, response.content[:800]
    again = ExchangeCredential.objects.get(pk=row.pk)
    assert again.exchange == "kraken2" and again.api_secret == SECRET


def test_reencrypt_fields_every_model_in_batches(user: Any) -> None:
    with override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[OLD]):
        rows = [make(user, extra={"n": n}) for n in range(5)]
        make_device(user)
    with override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        out = io.StringIO()
        call_command("reencrypt_fields", "--dry-run", stdout=out)
        assert "16 secret(s) need re-encryption" in out.getvalue()  # 5 x 3 fields + 1 TOTP
        out = io.StringIO()
        call_command("reencrypt_fields", "--batch-size", "2", stdout=out)
        assert "16 secret(s) re-encrypted; 0 undecryptable." in out.getvalue()
        out = io.StringIO()
        call_command("reencrypt_fields", stdout=out)
        assert "0 secret(s) re-encrypted" in out.getvalue()  # resumable: done rows skipped
    with override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[NEW]):
        assert [r.extra["n"] for r in ExchangeCredential.objects.order_by("pk")] == list(range(5))
        assert ExchangeCredential.objects.get(pk=rows[0].pk).api_secret == SECRET
        assert TOTPDevice.objects.get().secret
    with (
        override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()]),
        pytest.raises(CommandError),
    ):
        call_command("reencrypt_fields", stdout=io.StringIO())


def test_the_plaintext_migration_operation(user: Any) -> None:
    from django.apps import apps

    row = make(user)
    with connection.cursor() as cursor:  # as if the column still held plaintext
        table = ExchangeCredential._meta.db_table
        cursor.execute(f"UPDATE {table} SET api_secret = %s", [SECRET])  # noqa: S608
    operation = encrypt_plaintext("example_project", "ExchangeCredential", "api_secret")
    operation.code(apps, None)
    assert crypto.decrypt(raw(row.pk, "api_secret")) == SECRET
    operation.code(apps, None)  # a re-run leaves encrypted values alone
    assert crypto.decrypt(raw(row.pk, "api_secret")) == SECRET
    assert operation.reverse_code is not None
    operation.reverse_code(apps, None)
    assert raw(row.pk, "api_secret") == SECRET


@pytest.mark.parametrize("form", ["json", "python", "xml", "yaml"])
@pytest.mark.parametrize(
    "extra", [{"passphrase": "pp-9", "sub": ["a"]}, ["a", {"b": 1}], "plain text", 42, True]
)
def test_dumpdata_and_loaddata_keep_json_values(user: Any, form: str, extra: Any) -> None:
    """The serializers (dumpdata / loaddata) write an encrypted JSON field as its JSON text
    (``value_to_string``); loading it back gives the same value, not that text."""
    from django.core import serializers

    if form == "yaml":
        pytest.importorskip("yaml")
    row = make(user, extra=extra)
    dumped = serializers.serialize(form, ExchangeCredential.objects.filter(pk=row.pk))
    ExchangeCredential.objects.all().delete()
    for obj in serializers.deserialize(form, dumped):
        obj.save()
    again = ExchangeCredential.objects.get(pk=row.pk)
    assert again.extra == extra and isinstance(again.extra, type(extra))
    assert again.api_secret == SECRET and SECRET not in raw(row.pk, "api_secret")
    if isinstance(extra, str | dict | list):
        assert repr(again.extra) == "<encrypted>"


def test_loading_json_text_that_does_not_parse_is_a_deserialization_error(user: Any) -> None:
    from django.core import serializers
    from django.core.serializers.base import DeserializationError

    row = make(user, extra={"a": 1})
    dumped = serializers.serialize("json", [row]).replace('{\\"a\\": 1}', "{not json")
    assert "{not json" in dumped
    with pytest.raises(DeserializationError, match="Enter valid JSON"):
        list(serializers.deserialize("json", dumped))


def test_a_json_string_value_stays_a_string_through_validation(user: Any) -> None:
    row = make(user, extra='{"looks": "like json"}')
    row.full_clean()  # Field.clean -> to_python on the values held by the model
    assert row.extra == '{"looks": "like json"}' and repr(row.extra) == "<encrypted>"
    row.api_secret = 1234  # a text field's value is text
    row.full_clean()
    assert row.api_secret == "1234" and repr(row.api_secret) == "<encrypted>"
    row.save()
    again = ExchangeCredential.objects.get(pk=row.pk)
    assert again.extra == '{"looks": "like json"}' and again.api_secret == "1234"


def test_json_values_of_every_kind_are_masked_when_assigned_and_loaded(user: Any) -> None:
    for value in (["a", 1], {"k": "v"}, "text"):
        row = make(user, extra=value)
        assert repr(row.extra) == "<encrypted>" and row.extra == value
        loaded = ExchangeCredential.objects.get(pk=row.pk)
        assert repr(loaded.extra) == "<encrypted>" and loaded.extra == value
    for value in (7, 2.5, False):  # scalars: nothing to mask, stored encrypted all the same
        row = make(user, extra=value)
        assert row.extra == value and isinstance(row.extra, type(value))
        assert raw(row.pk, "extra") != str(value)
        assert ExchangeCredential.objects.get(pk=row.pk).extra == value
    field = ExchangeCredential._meta.get_field("extra")
    assert field.get_prep_value(None) is None
    token = crypto.encrypt('{"k":"v"}')
    assert field.get_prep_value(Ciphertext(token)) == token  # written as it is


def test_a_model_form_replaces_the_secret_or_keeps_it_when_left_empty(user: Any) -> None:
    from django.forms import modelform_factory

    Form = modelform_factory(  # noqa: N806
        ExchangeCredential, fields=["user", "exchange", "api_key", "api_secret", "extra"]
    )
    row = make(user, extra={"old": True})
    data = {"user": user.pk, "exchange": "kraken", "api_key": "", "api_secret": "sk-new"}
    form = Form(data={**data, "extra": '{"new": 1}'}, instance=row)
    assert form.is_valid(), form.errors
    form.save()
    again = ExchangeCredential.objects.get(pk=row.pk)
    assert again.api_secret == "sk-new" and again.api_key == "AKID1234"  # empty box: kept
    assert again.extra == {"new": 1}
    assert "sk-new" not in raw(row.pk, "api_secret")
    # A new row: an empty box is an empty value (nothing stored to keep).
    form = Form(data={**data, "api_key": "", "extra": ""})
    assert form.is_valid(), form.errors
    created = form.save()
    assert ExchangeCredential.objects.get(pk=created.pk).api_key == ""
    assert 'value="' not in str(Form(instance=again)["api_secret"])  # never rendered


def test_a_row_under_a_key_no_longer_configured_raises_when_loaded(user: Any) -> None:
    with override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[OLD]):
        row = make(user)
    with override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[NEW]):
        with pytest.raises(crypto.DecryptionError):
            ExchangeCredential.objects.get(pk=row.pk)
        # isnull and the other columns still work without decrypting
        assert ExchangeCredential.objects.filter(api_secret__isnull=False).count() == 1
        assert list(ExchangeCredential.objects.values_list("hint", flat=True)) == ["1234"]


def test_the_json_migration_operation_in_batches(
    user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.apps import apps

    from hardening.crypto import migrate

    monkeypatch.setattr(migrate, "BATCH", 2)
    rows = [make(user) for _ in range(5)]
    table = ExchangeCredential._meta.db_table
    with connection.cursor() as cursor:  # as if the column still held plaintext JSON
        for n, row in enumerate(rows):
            cursor.execute(
                f"UPDATE {table} SET extra = %s WHERE id = %s",  # noqa: S608
                [f'{{"n": {n}}}', row.pk],
            )
    operation = encrypt_plaintext("example_project", "ExchangeCredential", "extra", json=True)
    operation.code(apps, None)
    assert [r.extra for r in ExchangeCredential.objects.order_by("pk")] == [
        {"n": n} for n in range(5)
    ]
    assert operation.reverse_code is not None
    operation.reverse_code(apps, None)
    assert [raw(r.pk, "extra") for r in rows] == [f'{{"n": {n}}}' for n in range(5)]
    with connection.cursor() as cursor:  # a value that is not JSON stops the migration
        cursor.execute(f"UPDATE {table} SET extra = %s WHERE id = %s", ["{oops", rows[3].pk])  # noqa: S608
    with pytest.raises(ValueError):
        operation.code(apps, None)
    assert raw(rows[3].pk, "extra") == "{oops"
