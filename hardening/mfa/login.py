"""The MFA step of the JWT login.

``POST /api/auth/token`` (hardening.jwt) calls :func:`mfa_challenge` after checking the
password.  For a user with a confirmed TOTP device or a passkey it answers
``{"mfa_required": true, "mfa_token": ..., "expires_in": 300, "factors": [...]}`` instead of
tokens (``factors``: ``totp``, ``webauthn``, ``recovery``, those the user has).
``POST /api/auth/mfa`` (:func:`mfa_login`) exchanges the ``mfa_token`` plus a TOTP or
recovery code for the token pair, with ``amr`` ``["pwd", "otp"]`` (TOTP) or
``["pwd", "mfa"]`` (recovery code) and ``auth_time``; with ``"webauthn"`` (an assertion)
instead of ``"code"`` it is the passkey step (:func:`mfa_step`, its options from
``POST /api/auth/mfa/webauthn`` ``{"mfa_token"}``: :func:`mfa_step_options`; ``amr``
``["pwd", "hwk"]`` or ``["pwd", "swk"]``).

The ``mfa_token`` is 256 random bits, opaque (not a JWT, so no authentication class can
ever accept it), stored only as a SHA-256 hash, valid for :data:`TOKEN_TTL` seconds
(<= 300), for :data:`TOKEN_MAX_ATTEMPTS` attempts, and once.  The step is asked of every
user with a confirmed factor (a project without MFA mounts no MFA URLs: nobody enrolls).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from hardening import clock, crypto
from hardening.errors import error_response
from hardening.mfa import events, lockout, passkeys, recovery, throttle
from hardening.mfa.attempts import limited, passkey_failed, throttled, verify_code
from hardening.mfa.challenges import PasskeyError
from hardening.mfa.devices import factors, has_mfa, throttle_wait
from hardening.mfa.endpoints import json_body, passkey_options, passkey_refused
from hardening.mfa.models import MFAChallenge, TOTPDevice
from hardening.observability.auth_events import login_succeeded
from hardening.parsers import JSONError, clean_string, loads

#: Seconds the ``mfa_token`` of the login step lives (at most :data:`MAX_TTL`).
TOKEN_TTL = 300
#: Codes one ``mfa_token`` may try.
TOKEN_MAX_ATTEMPTS = 5
MAX_TTL = 300
MAX_ACTIVE_CHALLENGES = 5


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _ttl() -> int:
    return max(1, min(TOKEN_TTL, MAX_TTL))


def mfa_challenge(request: HttpRequest, user: Any) -> dict[str, Any] | None:
    """``{"mfa_required": True, "mfa_token": ...}`` when ``user`` has a confirmed device."""
    if not has_mfa(user):
        return None
    now = clock.now()
    MFAChallenge.objects.filter(expires_at__lte=now).delete()  # housekeeping: all users
    stale = MFAChallenge.objects.filter(user=user).order_by("-created_at")[
        MAX_ACTIVE_CHALLENGES - 1 :
    ]
    MFAChallenge.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()
    token = secrets.token_urlsafe(32)
    MFAChallenge.objects.create(
        token_hash=_hash(token), user=user, created_at=now, expires_at=now + _ttl()
    )
    return {
        "mfa_required": True,
        "mfa_token": token,
        "expires_in": _ttl(),
        "factors": factors(user),
    }


def bad_request(detail: str) -> HttpResponse:
    events.failure("bad_request", None)
    return error_response(400, "invalid_request", detail)


def invalid_token() -> HttpResponse:
    events.failure("invalid_mfa_token", None)
    return error_response(401, "invalid_mfa_token", "The MFA token is invalid or expired.")


def _load(request: HttpRequest) -> dict[str, Any] | None:
    try:
        data = loads(request.body or b"null")
    except JSONError:
        return None
    return data if isinstance(data, dict) else None


def _parse(data: dict[str, Any]) -> tuple[str, str] | None:
    token, code = data.get("mfa_token"), data.get("code")
    if not clean_string(token) or not clean_string(code):
        return None
    if not (0 < len(token) <= 128 and 0 < len(code) <= 64):
        return None
    return token, code.strip()


def open_challenge(token: Any, now: float) -> tuple[MFAChallenge, Any] | HttpResponse:
    """The pending login of ``token`` and its user, or the error response."""
    if not clean_string(token) or not 0 < len(token) <= 128:
        return bad_request('Send JSON {"mfa_token": "...", ...}.')
    challenge = MFAChallenge.objects.filter(token_hash=_hash(token)).first()
    if challenge is None or challenge.used or challenge.expires_at <= now:
        return invalid_token()
    user = get_user_model().objects.filter(pk=challenge.user_id, is_active=True).first()
    if user is None:
        return invalid_token()
    locked = lockout.blocked_for(user.get_username())
    if locked:  # refused before spending an attempt of the mfa_token
        return lockout.locked_response(locked)
    return challenge, user


def claim_attempt(challenge: MFAChallenge, now: float) -> bool:
    """Spend one attempt of the ``mfa_token`` (False: none left, used or expired)."""
    return bool(
        MFAChallenge.objects.filter(
            pk=challenge.pk, used=False, attempts__lt=TOKEN_MAX_ATTEMPTS, expires_at__gt=now
        ).update(attempts=F("attempts") + 1)
        == 1
    )


def finish(
    request: HttpRequest, challenge: MFAChallenge, user: Any, amr: list[str]
) -> HttpResponse:
    """Complete the login step: the ``mfa_token`` is spent and the token pair issued."""
    if MFAChallenge.objects.filter(pk=challenge.pk, used=False).update(used=True) != 1:
        return invalid_token()  # a concurrent request completed this login first
    from hardening.jwt.tokens import issue_token_pair

    pair = issue_token_pair(user, amr=amr, auth_time=int(clock.now()))
    login_succeeded(request, user, amr=amr)
    response = JsonResponse(pair)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt  # no cookie is involved: the mfa_token in the body is the credential
@never_cache
@require_POST
def mfa_login(request: HttpRequest) -> HttpResponse:
    """``POST /api/auth/mfa`` ``{"mfa_token", "code"}`` (or ``"webauthn"``: an assertion)
    -> ``{"access", "refresh"}``."""
    data = _load(request)
    if data is not None and "webauthn" in data:
        return mfa_step(request, data.get("mfa_token"), data["webauthn"])
    parsed = _parse(data) if data is not None else None
    if parsed is None:
        return bad_request('Send JSON {"mfa_token": "...", "code": "..."}.')
    token, code = parsed
    now = clock.now()
    opened = open_challenge(token, now)
    if isinstance(opened, HttpResponse):
        return opened
    challenge, user = opened
    if not recovery.looks_like_recovery_code(code):
        wait = throttle_wait(TOTPDevice.objects.filter(user=user, confirmed=True), now)
        if wait:  # refused before spending an attempt of the mfa_token
            events.failure("throttled", request, user_id=str(user.pk), scope="device")
            return throttled(wait)
    if not claim_attempt(challenge, now):
        return invalid_token()
    try:
        reason, method, retry_after = verify_code(request, user, code)
    except crypto.DecryptionError:
        return error_response(503, "mfa_unavailable", "MFA cannot be verified right now.")
    if reason == "throttled":
        return throttled(retry_after)
    if reason != "ok":
        left = max(0, TOKEN_MAX_ATTEMPTS - challenge.attempts - 1)
        return error_response(401, "invalid_code", "The code is not valid.", attempts_left=left)
    return finish(request, challenge, user, ["pwd", method])


def mfa_step(request: HttpRequest, token: Any, credential: Any) -> HttpResponse:
    """``POST /api/auth/mfa`` with ``"webauthn"``: the passkey as the second factor."""
    now = clock.now()
    opened = open_challenge(token, now)
    if isinstance(opened, HttpResponse):
        return opened
    challenge, user = opened
    blocked = limited(request, user)
    if blocked is not None:
        return blocked
    if not claim_attempt(challenge, now):
        return invalid_token()
    try:
        row = passkeys.lookup(credential, user)
        result = passkeys.authenticate(request, "mfa", challenge.token_hash, credential, row)
    except PasskeyError as exc:
        passkey_failed(request, user, exc)
        left = max(0, TOKEN_MAX_ATTEMPTS - challenge.attempts - 1)
        return passkey_refused(exc, attempts_left=left)
    throttle.reset_user(user.pk)
    return finish(request, challenge, user, ["pwd", result.method])


@csrf_exempt  # no cookie is involved: the mfa_token in the body is the credential
@never_cache
@require_POST
def mfa_step_options(request: HttpRequest) -> HttpResponse:
    """``POST /api/auth/mfa/webauthn`` ``{"mfa_token"}`` -> the assertion options."""
    opened = open_challenge(json_body(request).get("mfa_token"), clock.now())
    if isinstance(opened, HttpResponse):
        return opened
    challenge, user = opened
    try:
        return passkey_options(
            passkeys.authentication_options(request, "mfa", challenge.token_hash, user)
        )
    except PasskeyError as exc:
        return passkey_refused(exc)
