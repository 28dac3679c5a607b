"""TOTP arithmetic (RFC 6238 on RFC 4226) on top of pyotp, without any state.

>>> code_at("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 1, digits=6)
'287082'
>>> matching_steps("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "287082", now=59, period=30,
...                digits=6, tolerance=0)
[1]

Replay state (the last accepted step) lives in the database: see
:func:`hardening.mfa.devices.verify_totp`.
"""

from __future__ import annotations

import hmac

import pyotp


def new_secret() -> str:
    """A random 160-bit base32 secret (RFC 4226 recommends 160 bits)."""
    return pyotp.random_base32(length=32)


def code_at(secret: str, step: int, *, digits: int) -> str:
    return str(pyotp.TOTP(secret, digits=digits).generate_otp(step))


def matching_steps(
    secret: str, code: str, *, now: float, period: int, digits: int, tolerance: int
) -> list[int]:
    """The time steps within ``tolerance`` of ``now`` whose code equals ``code``.

    Every candidate is compared in constant time, and all of them always are.
    """
    if len(code) != digits or not (code.isascii() and code.isdigit()):
        return []
    current = int(now // period)
    matches = []
    for step in range(current - tolerance, current + tolerance + 1):
        if step >= 0 and hmac.compare_digest(code_at(secret, step, digits=digits), code):
            matches.append(step)
    return matches


def provisioning_uri(secret: str, *, account: str, issuer: str, digits: int, period: int) -> str:
    totp = pyotp.TOTP(secret, digits=digits, interval=period)
    return str(totp.provisioning_uri(name=account, issuer_name=issuer))


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as an inline ``<svg>`` element (no XML declaration, no styles)."""
    import segno

    qr = segno.make(uri, error="m", micro=False)
    return str(qr.svg_inline(scale=4, border=4, dark="#000", light="#fff", omitsize=False))
