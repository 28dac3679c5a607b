"""The WebAuthn ceremonies (hardening.mfa.passkeys) against py_webauthn's published test
vectors and a software authenticator: challenges are single use, bound and short-lived; a
sign-counter regression is refused and audited."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import RequestFactory, override_settings
from webauthn.helpers import base64url_to_bytes

from hardening.mfa import passkeys
from hardening.mfa.models import WebAuthnChallenge, WebAuthnCredential
from hardening.mfa.passkeys import PasskeyError
from hardening.observability.audit import security_event
from hardening.observability.metrics import WEBAUTHN_CEREMONIES
from tests.helpers.clock import FakeClock
from tests.helpers.webauthn import (
    ASSERTION_EC2,
    ASSERTION_EC2_PUBLIC_KEY,
    ASSERTION_EC2_SIGN_COUNT,
    REGISTRATION_NONE,
    VECTOR_ORIGIN,
    VECTOR_RP_ID,
    SoftAuthenticator,
    client_challenge,
)

pytestmark = pytest.mark.django_db
VECTORS = {"HARDENING_WEBAUTHN_RP_ID": VECTOR_RP_ID, "HARDENING_WEBAUTHN_ORIGINS": [VECTOR_ORIGIN]}


@pytest.fixture
def events() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    seen: list[tuple[str, dict[str, Any]]] = []

    def receiver(sender: Any, event: str, fields: dict[str, Any], **kw: Any) -> None:
        seen.append((event, fields))

    security_event.connect(receiver, dispatch_uid="test-passkeys")
    yield seen
    security_event.disconnect(dispatch_uid="test-passkeys")


def vector_request() -> Any:
    return RequestFactory().post("/", HTTP_HOST="localhost:5000")


def pending(challenge: bytes, purpose: str, binding: str, user: Any, ttl: float = 300) -> None:
    from hardening import clock

    WebAuthnChallenge.objects.create(
        challenge_hash=hashlib.sha256(challenge).hexdigest(),
        purpose=purpose,
        binding=binding,
        user=user,
        expires_at=clock.now() + ttl,
    )


def vector_credential(user: Any, sign_count: int) -> WebAuthnCredential:
    return WebAuthnCredential.objects.create(
        user=user,
        name="vector",
        credential_id=ASSERTION_EC2["id"],
        public_key=base64url_to_bytes(ASSERTION_EC2_PUBLIC_KEY),
        sign_count=sign_count,
        user_handle="",
    )


def sample(ceremony: str, outcome: str) -> float:
    value = WEBAUTHN_CEREMONIES.labels(ceremony=ceremony, outcome=outcome)._value.get()
    return float(value)


@override_settings(**VECTORS)
def test_registration_vector_with_none_attestation_is_stored(user: Any) -> None:
    pending(client_challenge(REGISTRATION_NONE), "register", "b", user)
    row = passkeys.register(vector_request(), user, "b", REGISTRATION_NONE, "key")
    assert row.credential_id == REGISTRATION_NONE["id"]
    assert row.sign_count == 23 and not row.backup_eligible
    assert bytes(row.public_key).startswith(b"\xa5")  # a COSE map
    assert not WebAuthnChallenge.objects.exists()  # the challenge is spent


@override_settings(**VECTORS)
def test_registration_vector_needs_our_challenge_and_origin(user: Any) -> None:
    with pytest.raises(PasskeyError) as refused:  # never issued
        passkeys.register(vector_request(), user, "b", REGISTRATION_NONE, "key")
    assert refused.value.reason == "challenge"
    pending(client_challenge(REGISTRATION_NONE), "register", "b", user)
    elsewhere = RequestFactory().post("/", HTTP_HOST="localhost:6000")  # not an origin
    with (
        override_settings(HARDENING_WEBAUTHN_ORIGINS=["https://localhost"]),
        pytest.raises(PasskeyError) as refused,
    ):
        passkeys.register(elsewhere, user, "b", REGISTRATION_NONE, "key")
    assert refused.value.reason == "invalid"
    assert not WebAuthnCredential.objects.exists()


@override_settings(**VECTORS)
def test_assertion_vector_verifies_and_spends_the_counter(user: Any, events: Any) -> None:
    row = vector_credential(user, ASSERTION_EC2_SIGN_COUNT)
    pending(client_challenge(ASSERTION_EC2), "mfa", "b", user)
    before = sample("mfa", "ok")
    result = passkeys.authenticate(vector_request(), "mfa", "b", ASSERTION_EC2, row)
    assert result.method == "hwk" and not result.user_verified
    row.refresh_from_db()
    assert row.sign_count == 78 and row.last_used_at is not None
    assert sample("mfa", "ok") == before + 1
    verified = [fields for event, fields in events if event == "mfa.passkey_verified"]
    assert verified and verified[0]["passkey_id"] == row.pk


@override_settings(**VECTORS)
def test_sign_counter_regression_is_refused_and_audited(user: Any, events: Any) -> None:
    row = vector_credential(user, 78)  # the vector's own counter: a clone replays it
    pending(client_challenge(ASSERTION_EC2), "mfa", "b", user)
    before = sample("mfa", "sign_count")
    with pytest.raises(PasskeyError) as refused:
        passkeys.authenticate(vector_request(), "mfa", "b", ASSERTION_EC2, row)
    assert refused.value.reason == "sign_count"
    assert [e for e, _ in events if e == "mfa.passkey_cloned"] == ["mfa.passkey_cloned"]
    assert sample("mfa", "sign_count") == before + 1
    row.refresh_from_db()
    assert row.sign_count == 78


@override_settings(**VECTORS)
def test_assertion_vector_for_another_purpose_or_binding_is_refused(user: Any) -> None:
    row = vector_credential(user, 0)
    pending(client_challenge(ASSERTION_EC2), "mfa", "session-a", user)
    for purpose, binding in (("login", "session-a"), ("mfa", "session-b")):
        with pytest.raises(PasskeyError) as refused:
            passkeys.authenticate(vector_request(), purpose, binding, ASSERTION_EC2, row)
        assert refused.value.reason == "challenge"
    assert WebAuthnChallenge.objects.count() == 1  # still pending for its own binding


@override_settings(**VECTORS)
def test_passwordless_needs_user_verification(user: Any) -> None:
    row = vector_credential(user, 0)  # the vector's authenticator did not verify the user
    pending(client_challenge(ASSERTION_EC2), "login", "b", None)
    with pytest.raises(PasskeyError) as refused:
        passkeys.authenticate(vector_request(), "login", "b", ASSERTION_EC2, row)
    assert refused.value.reason == "invalid"


def soft_request() -> Any:
    return RequestFactory().post("/", HTTP_HOST="testserver")


def test_software_authenticator_round_trip_single_use(user: Any) -> None:
    key = SoftAuthenticator()
    options = passkeys.registration_options(soft_request(), user, "b")
    assert options["rp"]["id"] == "testserver" and options["attestation"] == "none"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    row = passkeys.register(soft_request(), user, "b", key.create(options), "laptop")
    options = passkeys.authentication_options(soft_request(), "mfa", "b", user)
    assert [c["id"] for c in options["allowCredentials"]] == [key.id]
    assertion = key.get(options)
    assert passkeys.authenticate(soft_request(), "mfa", "b", assertion, row).method == "hwk"
    with pytest.raises(PasskeyError) as refused:  # the same assertion again
        passkeys.authenticate(soft_request(), "mfa", "b", assertion, row)
    assert refused.value.reason == "challenge"


def test_challenges_expire_after_five_minutes(user: Any, clock: FakeClock) -> None:
    key = SoftAuthenticator()
    options = passkeys.registration_options(soft_request(), user, "b")
    clock.advance(passkeys.CHALLENGE_TTL + 1)
    with pytest.raises(PasskeyError) as refused:
        passkeys.register(soft_request(), user, "b", key.create(options), "laptop")
    assert refused.value.reason == "challenge"
    assert passkeys.CHALLENGE_TTL == 300


def test_synced_passkeys_are_swk_and_a_wrong_key_is_refused(user: Any) -> None:
    key = SoftAuthenticator(backup=True, counter=False)
    options = passkeys.registration_options(soft_request(), user, "b")
    row = passkeys.register(soft_request(), user, "b", key.create(options), "phone")
    assert row.backup_eligible
    options = passkeys.authentication_options(soft_request(), "mfa", "b", user)
    assert passkeys.authenticate(soft_request(), "mfa", "b", key.get(options), row).method == "swk"
    other = SoftAuthenticator()
    other.credential_id = key.credential_id  # same id, another private key
    options = passkeys.authentication_options(soft_request(), "mfa", "b", user)
    with pytest.raises(PasskeyError) as refused:
        passkeys.authenticate(soft_request(), "mfa", "b", other.get(options), row)
    assert refused.value.reason == "invalid"


def test_a_foreign_origin_is_refused(user: Any) -> None:
    key = SoftAuthenticator()
    options = passkeys.registration_options(soft_request(), user, "b")
    credential = key.create(options, origin="https://evil.example")
    with pytest.raises(PasskeyError) as refused:
        passkeys.register(soft_request(), user, "b", credential, "laptop")
    assert refused.value.reason == "invalid"


@override_settings(HARDENING_ENVIRONMENT="production")
def test_production_without_an_rp_id_has_no_passkeys() -> None:
    assert passkeys.relying_party(soft_request()) is None
    with override_settings(HARDENING_WEBAUTHN_RP_ID="example.com"):
        assert passkeys.relying_party(soft_request()) == ("example.com", ["https://example.com"])
    with override_settings(HARDENING_WEBAUTHN_RP_ID=""):
        assert passkeys.relying_party(soft_request()) is None
