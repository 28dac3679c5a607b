"""Field encryption, key rotation, the management commands and the admin reset action."""

from __future__ import annotations

import io
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings

from hardening import crypto
from hardening.mfa import recovery
from hardening.mfa.models import RecoveryCode, TOTPDevice
from tests.helpers.mfa import RFC_SECRET, make_device

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()


@override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[OLD])
def test_round_trip_and_tamper() -> None:
    token = crypto.encrypt("s3cret")
    assert "s3cret" not in token and crypto.decrypt(token) == "s3cret"
    assert crypto.encrypt("s3cret") != token  # random IV
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token[:-4] + "AAAA")
    with (
        override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[NEW]),
        pytest.raises(crypto.DecryptionError),
    ):
        crypto.decrypt(token)


def test_rotation_first_key_encrypts_all_decrypt() -> None:
    with override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[OLD]):
        old = crypto.encrypt("x")
    with override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        assert crypto.decrypt(old) == "x" and crypto.needs_rotation(old)
        rotated = crypto.rotate(old)
        assert not crypto.needs_rotation(rotated)
    with override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[NEW]):
        assert crypto.decrypt(rotated) == "x"


@pytest.mark.parametrize("keys", [[], ["not-a-key"]])
def test_missing_or_malformed_keys(keys: list[str]) -> None:
    with (
        override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=keys),
        pytest.raises(ImproperlyConfigured),
    ):
        crypto.encrypt("x")


@pytest.mark.django_db
def test_reencrypt_command(user: Any) -> None:
    with override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[OLD]):
        device = make_device(user)
    with override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        out = io.StringIO()
        call_command("reencrypt_mfa_secrets", "--dry-run", stdout=out)
        assert "1 secret(s) need" in out.getvalue()
        call_command("reencrypt_mfa_secrets", stdout=out)
        assert "1 secret(s) re-encrypted" in out.getvalue()
        out = io.StringIO()
        call_command("reencrypt_mfa_secrets", stdout=out)
        assert "0 secret(s) re-encrypted" in out.getvalue()
    with override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[NEW]):
        assert TOTPDevice.objects.get(pk=device.pk).secret == RFC_SECRET
    unknown = Fernet.generate_key().decode()
    with override_settings(HARDENING_FIELD_ENCRYPTION_KEYS=[unknown]), pytest.raises(CommandError):
        call_command("reencrypt_mfa_secrets", stdout=io.StringIO())


@pytest.mark.django_db
def test_reset_mfa_command(user: Any, events: list[tuple[str, dict[str, Any]]]) -> None:
    make_device(user)
    recovery.generate(user)
    out = io.StringIO()
    call_command("reset_mfa", "alice", stdout=out)
    assert "1 device(s) removed" in out.getvalue() and "mfa.reset" in [e for e, _ in events]
    assert not TOTPDevice.objects.exists() and not RecoveryCode.objects.exists()
    with pytest.raises(CommandError):
        call_command("reset_mfa", "nobody")


@pytest.mark.django_db
def test_admin_lists_devices_and_resets(user: Any, django_user_model: Any, client: Client) -> None:
    device = make_device(user)
    admin = django_user_model.objects.create_superuser("root", password="x")
    client.force_login(admin)
    listing = client.get("/admin/hardening/totpdevice/")
    assert listing.status_code == 200 and b"alice" in listing.content
    assert (
        RFC_SECRET.encode()
        not in client.get(f"/admin/hardening/totpdevice/{device.pk}/change/").content
    )
    response = client.post(
        "/admin/hardening/totpdevice/",
        {"action": "reset_selected", "_selected_action": [device.pk]},
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
