"""RFC 4226 Appendix D and RFC 6238 Appendix B test vectors."""

from __future__ import annotations

import doctest
import hashlib

import pyotp
import pytest

from hardening.mfa import totp

SECRET_20 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
SECRET_32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA===="
SECRET_64 = "GEZDGNBVGY3TQOJQ" * 6 + "GEZDGNA="

HOTP = ["755224", "287082", "359152", "969429", "338314",
        "254676", "287922", "162583", "399871", "520489"]  # fmt: skip

TOTP = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]


@pytest.mark.parametrize(("counter", "expected"), list(enumerate(HOTP)))
def test_rfc4226_hotp(counter: int, expected: str) -> None:
    assert totp.code_at(SECRET_20, counter, digits=6) == expected
    assert pyotp.HOTP(SECRET_20).at(counter) == expected


@pytest.mark.parametrize(("when", "sha1", "sha256", "sha512"), TOTP)
def test_rfc6238_totp(when: int, sha1: str, sha256: str, sha512: str) -> None:
    # Our code path (SHA1, which is what authenticator apps support) with 8 digits.
    step = when // 30
    assert totp.code_at(SECRET_20, step, digits=8) == sha1
    assert totp.matching_steps(SECRET_20, sha1, now=when, period=30, digits=8, tolerance=0) == [
        step
    ]
    # 6 digits are the last 6 of the 8.
    assert totp.matching_steps(
        SECRET_20, sha1[-6:], now=when, period=30, digits=6, tolerance=0
    ) == [step]
    # The library under us agrees on the other digests of Appendix B.
    assert pyotp.TOTP(SECRET_32, digits=8, digest=hashlib.sha256).at(when) == sha256
    assert pyotp.TOTP(SECRET_64, digits=8, digest=hashlib.sha512).at(when) == sha512


def test_wrong_and_malformed_codes_do_not_match() -> None:
    for code in ["287083", "28708", "2870822", "28708a", "２８７０８２", "", " 287082"]:
        assert totp.matching_steps(SECRET_20, code, now=59, period=30, digits=6, tolerance=0) == []


def test_tolerance_window() -> None:
    previous = totp.code_at(SECRET_20, 1, digits=6)  # the code of t=30..59
    assert totp.matching_steps(SECRET_20, previous, now=61, period=30, digits=6, tolerance=0) == []
    assert totp.matching_steps(SECRET_20, previous, now=61, period=30, digits=6, tolerance=1) == [1]


def test_doctests() -> None:
    result = doctest.testmod(totp)
    assert result.attempted >= 2 and result.failed == 0
