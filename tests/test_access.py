from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from hardening.access import (
    bearer_token,
    check_allow_list,
    ip_allowed,
    operator_address,
    operator_ips,
    token_matches,
)


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


def test_invalid_entries_are_skipped_and_a_bad_operator_list_admits_none_of_its_entries() -> None:
    assert ip_allowed("127.0.0.1", ["not-an-ip", "127.0.0.1"])
    # HARDENING_OPERATOR_IPS with a bad entry is unusable (hardening.E605): the default
    # applies, loopback for an endpoint without a token, nobody for one with a token.
    with override_settings(HARDENING_OPERATOR_IPS=["not-an-ip", "10.0.0.0/8"]):
        assert operator_ips("") == ["127.0.0.1", "::1"]
        assert operator_ips("t" * 40) == []
        request = RequestFactory().get("/", REMOTE_ADDR="10.1.2.3")
        assert not operator_address(request, "")


def test_the_gate_reads_the_resolved_client_address() -> None:
    """Behind a configured proxy the gate sees the address the proxy received the request
    from (request.hardening.client_ip), not the proxy's loopback address."""
    forwarded = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    assert operator_address(RequestFactory().get("/", **forwarded), "")  # no proxy: REMOTE_ADDR
    with override_settings(HARDENING_TRUSTED_PROXY_COUNT=1):
        assert not operator_address(RequestFactory().get("/", **forwarded), "")
        with override_settings(HARDENING_OPERATOR_IPS=["203.0.113.0/24"]):
            assert operator_address(RequestFactory().get("/", **forwarded), "")


def test_check_allow_list_reports_invalid_and_open_entries() -> None:
    invalid, everyone = check_allow_list(["127.0.0.1", "bad", "0.0.0.0/0", "::/0", "10.0.0.0/8"])
    assert invalid == ["bad"]
    assert everyone == ["0.0.0.0/0", "::/0"]


def test_token_checks_survive_an_empty_secret_key() -> None:
    """Django refuses to read an empty SECRET_KEY (E001 reports it); the token check goes on."""
    from hardening.access import token_checks
    from tests.helpers.checks import production

    with production(SECRET_KEY=""):
        assert (
            token_checks("HARDENING_METRICS_TOKEN", "Tq3vX9pLr2mZ8sK4wN7bY1cF6hJ0dG5e", "E0", {})
            == []
        )
