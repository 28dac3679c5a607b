from __future__ import annotations

import doctest

import pytest

import hardening.headers.csp
import hardening.headers.policies
import hardening.observability.middleware
import hardening.observability.scrub
from hardening.observability.scrub import FILTERED, is_sensitive_key, scrub, scrub_text

JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1XzEiLCJleHAiOjF9.MEUCIQDx-sig_part"


@pytest.mark.parametrize(
    "module",
    [
        hardening.observability.scrub,
        hardening.observability.middleware,
        hardening.headers.csp,
        hardening.headers.policies,
    ],
)
def test_doctests(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"token {JWT}", JWT),
        (f"jwt={JWT[:30]}", JWT[:30]),
        ("Authorization: Bearer abc.def-ghi_jkl", "abc.def-ghi_jkl"),
        ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ('{"password": "p@ss-w0rd!"}', "p@ss-w0rd!"),
        ("refresh_token=r3fr3sh-value&x=1", "r3fr3sh-value"),
        ("otp=482913", "482913"),
        ("recovery_code: ABCD-EFGH-IJ", "ABCD-EFGH-IJ"),
        ("postgres://app:db-pass-1@db.internal/app", "db-pass-1"),
        ("SECRET_KEY=abc123def456", "abc123def456"),
    ],
)
def test_secrets_in_text_are_removed(text: str, secret: str) -> None:
    scrubbed = scrub_text(text)
    assert secret not in scrubbed
    assert FILTERED in scrubbed


@pytest.mark.parametrize(
    "text",
    ["token expired", "Invalid token signature", "user 42 logged in", "GET /api/me 401"],
)
def test_ordinary_text_is_kept(text: str) -> None:
    assert scrub_text(text) == text


def test_keys() -> None:
    for key in ("password", "HTTP_AUTHORIZATION", "Cookie", "mfa_token", "totp_code", "api-key"):
        assert is_sensitive_key(key), key
    for key in ("user_id", "reason", "policy", "status_code", "event", "path", 3):
        assert not is_sensitive_key(key), key


def test_nested_structures_and_header_pairs() -> None:
    value = {
        "headers": [["Authorization", "Bearer x"], ["Accept", "application/json"]],
        "list": [{"secret": "s"}, f"see {JWT}"],
        "tuple": ("password=abc1234",),
        "empty_password": "",
    }
    assert scrub(value) == {
        "headers": [["Authorization", FILTERED], ["Accept", "application/json"]],
        "list": [{"secret": FILTERED}, f"see {FILTERED}"],
        "tuple": (f"password={FILTERED}",),
        "empty_password": "",
    }
