from __future__ import annotations

import pytest
from django.test import RequestFactory

from hardening.access import bearer_token, check_allow_list, ip_allowed, token_matches


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer abc", "abc"),
        ("bearer  abc ", "abc"),
        ("Basic abc", None),
        ("Bearer ", None),
        ("", None),
    ],
)
def test_bearer_token(header: str, expected: str | None) -> None:
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=header)
    assert bearer_token(request) == expected


def test_token_matches() -> None:
    assert token_matches("s" * 40, "s" * 40)
    assert not token_matches("s" * 40, "t" * 40)
    assert not token_matches("", "")  # no expected token: nobody matches


@pytest.mark.parametrize(
    ("remote", "allowed"),
    [
        ("127.0.0.1", ["127.0.0.1"]),
        ("10.1.2.3", ["10.0.0.0/8"]),
        ("::ffff:10.1.2.3", ["10.0.0.0/8"]),
        ("fe80::1%eth0", ["fe80::/10"]),
        ("::1", [" ::1 "]),
    ],
)
def test_ip_allowed(remote: str, allowed: list[str]) -> None:
    assert ip_allowed(remote, allowed)


@pytest.mark.parametrize("remote", ["192.0.2.1", "", None, "garbage", "127.0.0.1, 10.0.0.1"])
def test_ip_not_allowed(remote: object) -> None:
    assert not ip_allowed(remote, ["127.0.0.1", "10.0.0.0/8"])


def test_invalid_entries_are_skipped_or_deny_everyone_when_strict() -> None:
    assert ip_allowed("127.0.0.1", ["not-an-ip", "127.0.0.1"])
    assert not ip_allowed("127.0.0.1", ["not-an-ip", "127.0.0.1"], strict=True)


def test_check_allow_list_reports_invalid_and_open_entries() -> None:
    invalid, everyone = check_allow_list(["127.0.0.1", "bad", "0.0.0.0/0", "::/0", "10.0.0.0/8"])
    assert invalid == ["bad"]
    assert everyone == ["0.0.0.0/0", "::/0"]
