"""WebAuthn ceremonies (passkeys and security keys) on top of py_webauthn.

py_webauthn (the ``webauthn`` extra) parses CBOR/COSE, checks attestation statements,
client data, RP id hashes, flags and signatures.  What it leaves to the relying party, and
this module does:

* **Challenges** (:mod:`hardening.mfa.challenges`) are random, stored server-side, bound,
  short-lived and single use.
* **The relying party** comes from ``HARDENING_WEBAUTHN_RP_ID`` / ``_ORIGINS``; outside
  production an unset RP id falls back to the page's own host name.
* **The sign counter**: the library is asked to verify the signature with a counter of 0
  and the counter is compared here, so that a regression (a cloned authenticator) is
  refused *and audited* (``mfa.passkey_cloned``) only for a validly signed assertion.
  Spending the new counter is one conditional UPDATE.

Every ceremony is counted in ``hardening_webauthn_ceremonies_total{ceremony, outcome}``
and audited (``mfa.passkey_*``).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.util import find_spec
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from hardening.conf import conf as core
from hardening.mfa.challenges import CHALLENGE_TTL as CHALLENGE_TTL
from hardening.mfa.challenges import PasskeyError as PasskeyError
from hardening.mfa.challenges import consume, credential_dict, issue
from hardening.mfa.conf import _is_ip, conf
from hardening.mfa.models import WebAuthnCredential
from hardening.observability.audit import audit
from hardening.observability.metrics import WEBAUTHN_CEREMONIES

#: User verification asked of a second factor and at registration: ``"preferred"``,
#: ``"required"`` or ``"discouraged"``.  Passwordless login always requires it.
USER_VERIFICATION = "preferred"
#: The browser's timeout hint, milliseconds.
TIMEOUT_MS = 120_000
PURPOSES = ("register", "mfa", "login")


@dataclass(frozen=True)
class Verified:
    """An accepted assertion: the credential and the RFC 8176 ``amr`` of the key."""

    credential: WebAuthnCredential
    method: str
    user_verified: bool


def installed() -> bool:
    """Is py_webauthn importable (``pip install 'django-hardening[webauthn]'``)?"""
    return find_spec("webauthn") is not None


def _host(request: HttpRequest) -> str:
    host = request.get_host().lower()
    return host.rsplit(":", 1)[0] if not host.endswith("]") else host


def relying_party(request: HttpRequest) -> tuple[str, list[str]] | None:
    """``(rp_id, allowed origins)`` for this request, or None when passkeys are off."""
    rp_id = conf.HARDENING_WEBAUTHN_RP_ID
    if not installed() or rp_id == "":
        return None
    host = _host(request)
    if rp_id is None:
        if core.is_production or _is_ip(host):
            return None
        rp_id = host
    origins = list(conf.HARDENING_WEBAUTHN_ORIGINS) or [f"https://{rp_id}"]
    if not core.is_production and (host == rp_id or host.endswith(f".{rp_id}")):
        own = f"{request.scheme}://{request.get_host()}"
        if own not in origins:
            origins.append(own)
    return rp_id, origins


def enabled(request: HttpRequest) -> bool:
    return relying_party(request) is not None


def _rp(request: HttpRequest, ceremony: str | None = None) -> tuple[str, list[str]]:
    """The relying party, else ``unavailable`` (counted and audited for an options call)."""
    found = relying_party(request)
    if found is None:
        if ceremony is not None:
            failed(request, ceremony, "unavailable")
        raise PasskeyError("unavailable")
    return found


def user_handle(user: Any) -> bytes:
    """The user's WebAuthn handle: 32 bytes, stable, not personal data (an HMAC of the pk)."""
    return salted_hmac(
        "hardening.mfa.passkeys.user_handle", str(user.pk), algorithm="sha256"
    ).digest()


def count(ceremony: str, outcome: str) -> None:
    WEBAUTHN_CEREMONIES.labels(ceremony=ceremony, outcome=outcome).inc()


def _uv(value: str) -> Any:
    from webauthn.helpers.structs import UserVerificationRequirement

    return UserVerificationRequirement(value)


def registration_options(request: HttpRequest, user: Any, binding: str) -> dict[str, Any]:
    from webauthn import generate_registration_options
    from webauthn.helpers import base64url_to_bytes, options_to_json_dict
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        PublicKeyCredentialDescriptor,
        ResidentKeyRequirement,
    )

    rp_id, _origins = _rp(request, "register_options")
    existing = WebAuthnCredential.objects.filter(user=user).values_list("credential_id", flat=True)
    name = str(user.get_username() or user.pk)
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=conf.HARDENING_MFA_ISSUER,
        user_name=name,
        user_id=user_handle(user),
        user_display_name=name,
        challenge=issue("register", binding, user),
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=_uv(USER_VERIFICATION),
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in existing
        ],
    )
    count("register_options", "ok")
    audit("mfa.passkey_challenge", request=request, ceremony="register")
    return dict(options_to_json_dict(options))


def register(
    request: HttpRequest, user: Any, binding: str, credential: Any, name: str
) -> WebAuthnCredential:
    """Verify a registration (attestation ``none`` accepted) and store the credential."""
    from webauthn import verify_registration_response
    from webauthn.helpers import bytes_to_base64url
    from webauthn.helpers.exceptions import WebAuthnException
    from webauthn.helpers.structs import CredentialDeviceType

    try:
        rp_id, origins = _rp(request)
        data = credential_dict(credential)
        challenge = consume("register", binding, data, user)
        try:
            verified = verify_registration_response(
                credential=data,
                expected_challenge=challenge,
                expected_rp_id=rp_id,
                expected_origin=origins,
                require_user_verification=USER_VERIFICATION == "required",
            )
        except (WebAuthnException, KeyError, TypeError, ValueError):
            raise PasskeyError("invalid") from None
        cred_id = bytes_to_base64url(verified.credential_id)
        if WebAuthnCredential.objects.filter(credential_id=cred_id).exists():
            raise PasskeyError("duplicate")
        transports = data["response"].get("transports")
        row: WebAuthnCredential = WebAuthnCredential.objects.create(
            user=user,
            name=name,
            credential_id=cred_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            user_handle=bytes_to_base64url(user_handle(user)),
            transports=",".join(t for t in transports if isinstance(t, str))[:128]
            if isinstance(transports, list)
            else "",
            aaguid=str(verified.aaguid)[:36],
            backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
            user_verified=verified.user_verified,
        )
    except PasskeyError as exc:
        failed(request, "register", exc.reason)
        raise
    count("register", "ok")
    audit("mfa.passkey_registered", request=request, passkey_id=row.pk)
    return row


def failed(request: HttpRequest | None, ceremony: str, reason: str, **fields: Any) -> None:
    count(ceremony, reason)
    event = "mfa.passkey_cloned" if reason == "sign_count" else "mfa.passkey_failed"
    audit(event, request=request, ceremony=ceremony, reason=reason, **fields)


def authentication_options(
    request: HttpRequest, purpose: str, binding: str, user: Any = None
) -> dict[str, Any]:
    """Options for ``navigator.credentials.get()``: the user's credentials for the second
    factor, none (discoverable credentials) for passwordless login."""
    from webauthn import generate_authentication_options
    from webauthn.helpers import base64url_to_bytes, options_to_json_dict
    from webauthn.helpers.structs import AuthenticatorTransport, PublicKeyCredentialDescriptor

    assert purpose in PURPOSES  # type narrow
    rp_id, _origins = _rp(request, f"{purpose}_options")
    allow = []
    if user is not None:
        for row in WebAuthnCredential.objects.filter(user=user).order_by("pk"):
            known = [t for t in row.transports.split(",") if t in _TRANSPORTS]
            allow.append(
                PublicKeyCredentialDescriptor(
                    id=base64url_to_bytes(row.credential_id),
                    transports=[AuthenticatorTransport(t) for t in known] or None,
                )
            )
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=issue(purpose, binding, user),
        timeout=TIMEOUT_MS,
        allow_credentials=allow,
        user_verification=_uv("required" if purpose == "login" else USER_VERIFICATION),
    )
    count(f"{purpose}_options", "ok")
    audit("mfa.passkey_challenge", request=request, ceremony=purpose)
    return dict(options_to_json_dict(options))


_TRANSPORTS = {"usb", "nfc", "ble", "internal", "cable", "hybrid", "smart-card"}


def lookup(credential: Any, user: Any = None) -> WebAuthnCredential:
    """The stored credential an assertion names (of ``user`` when given), else
    ``unknown_credential``; raises ``bad_request`` for a malformed assertion."""
    data = credential_dict(credential)
    rows = WebAuthnCredential.objects.filter(credential_id=data["id"])
    if user is not None:
        rows = rows.filter(user=user)
    row: WebAuthnCredential | None = rows.select_related("user").first()
    if row is None:
        raise PasskeyError("unknown_credential")
    return row


def authenticate(
    request: HttpRequest, purpose: str, binding: str, credential: Any, row: WebAuthnCredential
) -> Verified:
    """Verify an assertion of ``row`` against a challenge issued for ``purpose`` and
    ``binding``; counts, audits and raises :class:`PasskeyError` on refusal."""
    from webauthn import verify_authentication_response
    from webauthn.helpers.exceptions import WebAuthnException
    from webauthn.helpers.structs import CredentialDeviceType

    fields = {"user_id": str(row.user_id), "passkey_id": row.pk}
    try:
        rp_id, origins = _rp(request)
        data = credential_dict(credential)
        challenge = consume(purpose, binding, data, None if purpose == "login" else row.user)
        handle = data["response"].get("userHandle")
        if handle and handle != row.user_handle:
            raise PasskeyError("invalid")
        try:
            verified = verify_authentication_response(
                credential=data,
                expected_challenge=challenge,
                expected_rp_id=rp_id,
                expected_origin=origins,
                credential_public_key=bytes(row.public_key),
                credential_current_sign_count=0,  # compared below, to audit a clone
                require_user_verification=purpose == "login" or USER_VERIFICATION == "required",
            )
        except (WebAuthnException, KeyError, TypeError, ValueError):
            raise PasskeyError("invalid") from None
        spend_counter(row, verified.new_sign_count)
    except PasskeyError as exc:
        failed(request, purpose, exc.reason, **fields)
        raise
    multi = verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE
    count(purpose, "ok")
    audit("mfa.passkey_verified", request=request, ceremony=purpose, **fields)
    return Verified(row, "swk" if multi or row.backup_eligible else "hwk", verified.user_verified)


def spend_counter(row: WebAuthnCredential, new: int) -> None:
    """Accept ``new`` only when it is greater than the stored counter (both 0: an
    authenticator without a counter, such as most synced passkeys); one conditional UPDATE."""
    rows = WebAuthnCredential.objects.filter(pk=row.pk)
    if new > 0 or row.sign_count > 0:
        rows = rows.filter(sign_count__lt=new)
    if rows.update(sign_count=new, last_used_at=timezone.now()) != 1:
        raise PasskeyError("sign_count")
    row.sign_count = new
