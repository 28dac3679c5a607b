from __future__ import annotations

import pytest
from django.test import override_settings

from hardening.clientip import client_ip
from hardening.ratelimit import ip
from hardening.ratelimit.decision import Check, WindowState
from hardening.ratelimit.headers import ratelimit_headers
from hardening.ratelimit.ip import masked_ip
from hardening.ratelimit.policy import PolicyError, Rate, parse_policies, parse_policy, parse_rate
from tests.helpers.ratelimit import request


@pytest.mark.parametrize(
    ("raw", "rate"),
    [
        ("100/m", Rate(100, 60)),
        ("5/15m", Rate(5, 900)),
        ("10/s", Rate(10, 1)),
        ("300/3600", Rate(300, 3600)),
        ((3, 10), Rate(3, 10)),
        ("0/m", Rate(0, 60)),
    ],
)
def test_rates_parse_with_django_ratelimit(raw: object, rate: Rate) -> None:
    assert parse_rate(raw) == rate


@pytest.mark.parametrize("raw", ["10/minute", "ten/m", "", "/m", "10/m/h", None, 10, (1, 0)])
def test_bad_rates_are_rejected(raw: object) -> None:
    with pytest.raises(PolicyError):
        parse_rate(raw)


def test_policy_defaults_route_policies_fail_closed() -> None:
    general = parse_policy({"name": "user", "key": "user", "rate": "100/m"})
    route = parse_policy({"name": "auth", "key": "ip", "rates": ["10/m"], "paths": ["/api/auth/"]})
    assert general.fail_open and not route.fail_open
    assert route.matches("/api/auth/token", "POST") and not route.matches("/api/me", "GET")
    regex = parse_policy(
        {"name": "x", "rate": "1/s", "paths": ["^/a/[0-9]+/$"], "methods": ["post"]}
    )
    assert regex.matches("/a/12/", "POST") and not regex.matches("/a/12/", "GET")
    assert not parse_policy({"name": "g", "key": "global", "rate": "1/s", "ban": True}).ban


@pytest.mark.parametrize(
    "raw",
    [
        [{"name": "a b", "rate": "1/m"}],
        [{"name": "a", "key": "cookie", "rate": "1/m"}],
        [{"name": "a"}],
        [{"name": "a", "rate": "1/m", "burst": 3}],
        ["user"],
        [{"name": "a", "rate": "1/m"}, {"name": "a", "rate": "2/m"}],
        [{"name": "a", "rate": "1/m", "paths": ["^(("]}],
    ],
)
def test_bad_policies_are_rejected(raw: object) -> None:
    with pytest.raises(PolicyError):
        parse_policies(raw)


def test_client_ip_is_remote_addr_by_default_even_with_forwarded_for() -> None:
    req = request(ip="192.0.2.1", HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert client_ip(req) == "192.0.2.1"


@override_settings(HARDENING_TRUSTED_PROXY_COUNT=1)
def test_one_trusted_proxy_uses_the_rightmost_entry() -> None:
    # A client-supplied entry on the left is ignored: only the proxy's own entry counts.
    req = request(ip="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.9")
    assert client_ip(req) == "198.51.100.9"
    assert client_ip(request(ip="10.0.0.2", HTTP_X_FORWARDED_FOR="garbage")) == "10.0.0.2"
    assert client_ip(request(ip="10.0.0.2")) == "10.0.0.2"


@override_settings(
    HARDENING_TRUSTED_PROXY_COUNT=2,
    HARDENING_TRUSTED_PROXIES=["10.0.0.0/8"],
    HARDENING_CLIENT_IP_HEADER="X-Real-IP",
)
def test_trusted_networks_and_header_name() -> None:
    hops = "6.6.6.6, 198.51.100.9, 10.1.1.1"
    assert client_ip(request(ip="10.0.0.2", HTTP_X_REAL_IP=hops)) == "198.51.100.9"
    # Not from a trusted proxy: the header is ignored.
    assert client_ip(request(ip="203.0.113.5", HTTP_X_REAL_IP=hops)) == "203.0.113.5"


def test_ipv6_is_masked_to_64(monkeypatch: pytest.MonkeyPatch) -> None:
    assert masked_ip("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::"
    assert masked_ip("192.0.2.77") == "192.0.2.77"
    monkeypatch.setattr(ip, "IPV4_MASK", 24)
    assert masked_ip("192.0.2.77") == "192.0.2.0"


def test_headers_follow_the_ietf_draft() -> None:
    policy = parse_policy({"name": "user", "rates": ["100/m", "1000/h"]})
    windows = [
        WindowState(Check(policy, policy.rates[0], "u:1", "u:1"), True, 0, 42, 17),
        WindowState(Check(policy, policy.rates[1], "u:1", "u:1"), True, 0, 958, 3000),
    ]
    headers = ratelimit_headers(windows)
    assert headers["RateLimit-Policy"] == '"user-60s";q=100;w=60, "user-3600s";q=1000;w=3600'
    assert headers["RateLimit"] == '"user-60s";r=42;t=17, "user-3600s";r=958;t=3000'


def test_the_docstring_examples_run() -> None:
    import doctest

    from hardening.ratelimit import policy

    result = doctest.testmod(policy)
    assert result.attempted >= 2 and result.failed == 0, result
