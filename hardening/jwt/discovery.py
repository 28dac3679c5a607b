"""OpenID Connect discovery: an issuer configured by its URL alone.

An ``HARDENING_JWT_ISSUERS`` entry with an ``issuer`` and neither ``jwks_url`` nor
``public_key`` takes its JWKS URL from ``<issuer>/.well-known/openid-configuration``
(OpenID Connect Discovery 1.0, section 4).  The document is fetched with the JWKS fetch's
hardening (:func:`hardening.jwt.fetch.fetch_document`: one total deadline, a size cap, no
redirects), and:

* its ``issuer`` must equal the configured one exactly (section 4.3: a document served for
  another issuer is refused, ``issuer_mismatch``);
* its ``jwks_uri`` must be an absolute https URL (http only when the issuer itself is http,
  which ``hardening.E130`` refuses in production);
* it is cached for its ``Cache-Control: max-age`` (bounded like a JWKS), else
  :data:`TTL`, and **stale-if-error**: while the discovery endpoint is down the last good
  ``jwks_uri`` keeps serving for :data:`STALE_TTL`.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

from hardening import clock
from hardening.jwt.fetch import KeyLookupError, fetch_document

WELL_KNOWN = "/.well-known/openid-configuration"
#: Seconds a discovery document is fresh when its response gives no ``max-age``.
TTL = 3600.0
#: Seconds past its TTL that a discovered ``jwks_uri`` keeps serving while discovery fails.
STALE_TTL = 24 * 3600.0


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + WELL_KNOWN


class Discovery:
    """The discovered ``jwks_uri`` of one issuer (thread-safe; one fetch at a time)."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.url = discovery_url(issuer)
        self._jwks_uri: str | None = None
        self._at: float | None = None
        self._ttl = TTL
        self._lock = threading.Lock()

    def _fresh(self, now: float, extra: float = 0.0) -> bool:
        return self._at is not None and now - self._at < self._ttl + extra

    def jwks_uri(self, timeout: float) -> str:
        """The JWKS URL; fetches the discovery document when stale (:class:`KeyLookupError`
        ``discovery_<reason>`` / ``issuer_mismatch`` / ``bad_jwks_uri`` when none is known)."""
        with self._lock:
            now = clock.monotonic()
            if self._jwks_uri is not None and self._fresh(now):
                return self._jwks_uri
            try:
                document, lifetime = fetch_document(self.url, timeout)
                uri = self._validate(document)
            except KeyLookupError as exc:
                if self._jwks_uri is not None and self._fresh(now, STALE_TTL):
                    return self._jwks_uri  # stale-if-error
                reason = exc.reason
                if reason not in ("issuer_mismatch", "bad_jwks_uri"):
                    reason = f"discovery_{reason}"
                raise KeyLookupError(reason) from None
            self._jwks_uri, self._at = uri, now
            self._ttl = TTL if lifetime is None else max(lifetime, 60.0)
            return str(uri)

    def _validate(self, document: object) -> str:
        if not isinstance(document, dict):
            raise KeyLookupError("invalid_json")
        if document.get("issuer") != self.issuer:
            raise KeyLookupError("issuer_mismatch")
        uri = document.get("jwks_uri")
        allowed = ("https",) if urlsplit(self.issuer).scheme == "https" else ("https", "http")
        if (
            not isinstance(uri, str)
            or urlsplit(uri).scheme not in allowed
            or not urlsplit(uri).netloc
        ):
            raise KeyLookupError("bad_jwks_uri")
        return str(uri)
