"""Clerk's opaque machine tokens, verified by Clerk's Backend API.

``ak_`` (API keys), ``oat_`` (OAuth access tokens), ``m2m_`` and ``mt_`` (machine-to-machine
tokens) are not JWTs: only Clerk can say whether one is valid.  For the Clerk issuer with
``"machine_tokens": True`` (:func:`hardening.jwt.issuers.machine_issuer`), the token is sent
to its verify endpoint (``POST {api_url}/api_keys/verify``, ``/oauth_applications/
access_tokens/verify``, ``/m2m_tokens/verify``, authorised by the issuer's ``secret_key``)
through hardening's own transport (:mod:`hardening.jwt.transport`: one total deadline, no
redirects, a size cap), not through the ``clerk-backend-api`` SDK (docs/jwt.md says why).

* A valid answer becomes claims: ``sub`` (Clerk's ``subject``), ``iss`` (the issuer),
  ``jti`` (the token's id), ``token_type`` (``api_key``, ``oauth_token``, ``m2m_token``),
  ``scopes``, ``azp`` (an OAuth token's client), and Clerk's custom ``claims`` under
  ``custom_claims`` (they never replace these).
* **Positive cache**: a valid token is remembered per process for :data:`POSITIVE_SECONDS`
  (never past its expiration), so a revocation at Clerk takes effect within that time.
* **Negative cache**: a token Clerk refused (4xx, ``revoked``, ``expired``, ``active: false``)
  is refused without asking again for :data:`NEGATIVE_SECONDS`.
* **Fail closed**: Clerk unreachable, slow (:data:`TIMEOUT`), 5xx/429 or an unreadable answer
  refuse the token (``machine_unavailable``); that outcome is not cached, but for
  :data:`COOLDOWN` seconds further tokens not in the positive cache are refused at once
  instead of each waiting for the timeout.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from django.core.signals import setting_changed
from django.dispatch import receiver

from hardening import clock
from hardening.jwt.issuers import Issuer
from hardening.jwt.jws import TokenRejected
from hardening.jwt.transport import BodyTooLarge, deadline_opener, read_body

logger = logging.getLogger("hardening.jwt")

#: Seconds for one verify call (connect, TLS, request and answer together).
TIMEOUT = 2.0
#: Seconds a valid token is remembered (never past its expiration).
POSITIVE_SECONDS = 30.0
#: Seconds a refused token is refused without asking Clerk again.
NEGATIVE_SECONDS = 30.0
#: Seconds after Clerk failed to answer during which uncached tokens are refused at once.
COOLDOWN = 5.0
#: Most tokens remembered per process (oldest dropped first).
CACHE_SIZE = 10_000
#: Largest answer read from Clerk.
MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = "django-hardening-clerk-machine/1"
#: prefix -> (path under api_url, body field, token_type)
ENDPOINTS = {
    "ak_": ("/api_keys/verify", "secret", "api_key"),
    "oat_": ("/oauth_applications/access_tokens/verify", "access_token", "oauth_token"),
    "m2m_": ("/m2m_tokens/verify", "token", "m2m_token"),
    "mt_": ("/m2m_tokens/verify", "token", "m2m_token"),
}
_TOKEN = re.compile(r"^(ak|oat|m2m|mt)_[A-Za-z0-9_\-.]{8,500}$")

_cache: dict[bytes, tuple[float, dict[str, Any] | None]] = {}
_lock = threading.Lock()
_down_until = [0.0]


def clear() -> None:
    """Forget every cached answer and any cooldown (tests, setting changes)."""
    with _lock:
        _cache.clear()
        _down_until[0] = 0.0


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("HARDENING_JWT_ISSUERS", "HARDENING_ENVIRONMENT"):
        clear()


def verify_opaque(raw: str, issuer: Issuer) -> dict[str, Any]:
    """The claims of the opaque Clerk machine token ``raw``, or :class:`TokenRejected`."""
    if not _TOKEN.match(raw):
        raise TokenRejected("malformed", "clerk")
    digest = hashlib.sha256(f"{issuer.api_url}\0{raw}".encode()).digest()
    now = clock.now()
    cached = _cache.get(digest)
    if cached is not None and cached[0] > now:
        if cached[1] is None:
            raise TokenRejected("machine_invalid", "clerk")
        return dict(cached[1])
    if _down_until[0] > time.monotonic():
        raise TokenRejected("machine_unavailable", "clerk")
    if not issuer.secret_key:
        raise TokenRejected("machine_unavailable", "clerk")  # hardening.E805
    path, field, token_type = next(v for k, v in ENDPOINTS.items() if raw.startswith(k))
    try:
        status, answer = _post(issuer.api_url + path, {field: raw}, issuer.secret_key)
    except _Unavailable as exc:
        logger.warning("Clerk machine-token verification unavailable (%s)", exc)
        _down_until[0] = time.monotonic() + COOLDOWN
        raise TokenRejected("machine_unavailable", "clerk") from None
    claims = _claims(status, answer, issuer, token_type, now)
    _remember(digest, claims, now)
    if claims is None:
        raise TokenRejected("machine_invalid", "clerk")
    return dict(claims)


def _claims(
    status: int, answer: Any, issuer: Issuer, token_type: str, now: float
) -> dict[str, Any] | None:
    """The claims of a valid answer; None for a token Clerk refused."""
    if status != 200 or not isinstance(answer, dict):
        return None
    if answer.get("active") is False or answer.get("revoked") or answer.get("expired"):
        return None
    subject, token_id = answer.get("subject"), answer.get("id")
    if not isinstance(subject, str) or not subject or not isinstance(token_id, str):
        return None
    expiration = answer.get("expiration")
    claims: dict[str, Any] = {
        "sub": subject,
        "iss": issuer.issuer,
        "jti": token_id,
        "token_type": token_type,
        "scopes": [s for s in answer.get("scopes") or [] if isinstance(s, str)],
    }
    if isinstance(expiration, int | float) and not isinstance(expiration, bool):
        seconds = expiration / 1000 if expiration > 1e11 else float(expiration)  # Clerk: ms
        if seconds <= now:
            return None
        claims["exp"] = int(seconds)
    if isinstance(answer.get("client_id"), str):
        claims["azp"] = answer["client_id"]
    if isinstance(answer.get("name"), str):
        claims["name"] = answer["name"]
    if isinstance(answer.get("claims"), dict):
        claims["custom_claims"] = answer["claims"]
    return claims


def _remember(digest: bytes, claims: dict[str, Any] | None, now: float) -> None:
    if claims is None:
        until = now + NEGATIVE_SECONDS
    else:
        until = min(now + POSITIVE_SECONDS, float(claims.get("exp", now + POSITIVE_SECONDS)))
    with _lock:
        _cache.pop(digest, None)
        _cache[digest] = (until, claims)
        while len(_cache) > CACHE_SIZE:
            del _cache[next(iter(_cache))]


class _Unavailable(Exception):
    """Clerk did not give an answer that says anything about the token."""


def _post(url: str, body: dict[str, str], secret_key: str) -> tuple[int, Any]:
    """``(status, decoded JSON)`` of a POST within :data:`TIMEOUT`; :class:`_Unavailable` for
    a transport failure, 5xx, 429 or an unreadable answer."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise _Unavailable("bad_url")
    deadline = time.monotonic() + TIMEOUT
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {secret_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        },
    )
    try:
        with deadline_opener(deadline).open(request, timeout=TIMEOUT) as response:
            status, payload = response.status, read_body(response, deadline, MAX_ANSWER_BYTES)
    except BodyTooLarge:
        raise _Unavailable("too_large") from None
    except urllib.error.HTTPError as exc:
        status = exc.code
        if status >= 500 or status == 429 or 300 <= status < 400:
            raise _Unavailable(f"http_{status}") from None
        return status, None  # 4xx: Clerk refused the token (its body is not needed)
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        raise _Unavailable(type(exc).__name__) from None
    if status != 200:
        raise _Unavailable(f"http_{status}")
    try:
        return status, json.loads(payload)
    except (ValueError, RecursionError):
        raise _Unavailable("invalid_json") from None
