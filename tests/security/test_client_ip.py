"""Issue 12 item 4: IPv4-mapped addresses, ports and RFC 7239 ``Forwarded`` never make
distinct clients share one rate-limit bucket; an unusable entry is logged and counted."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

import pytest
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from hardening.clientip import client_ip
from hardening.observability.metrics import CLIENT_IP_UNPARSED
from hardening.ratelimit.ip import masked_ip
from tests.helpers.clock import FakeClock
from tests.helpers.ratelimit import request

ONE_PROXY = {"HARDENING_TRUSTED_PROXY_COUNT": 1}
FORWARDED = {**ONE_PROXY, "HARDENING_CLIENT_IP_HEADER": "Forwarded"}


def test_mapped_remote_addresses_are_ipv4_before_masking() -> None:
    a = client_ip(request(ip="::ffff:198.51.100.7"))
    b = client_ip(request(ip="::ffff:203.0.113.9"))
    assert (a, b) == ("198.51.100.7", "203.0.113.9")
    assert masked_ip(a) != masked_ip(b)
    assert masked_ip("::ffff:198.51.100.7") == "198.51.100.7"


@override_settings(**ONE_PROXY)
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("198.51.100.7:4431", "198.51.100.7"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("[::ffff:198.51.100.7]:80", "198.51.100.7"),
        ("6.6.6.6, 192.0.2.44:1234", "192.0.2.44"),
    ],
)
def test_forwarded_for_entries_with_ports(header: str, expected: str) -> None:
    assert client_ip(request(ip="10.0.0.2", HTTP_X_FORWARDED_FOR=header)) == expected


@override_settings(**FORWARDED)
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("for=192.0.2.60;proto=https;by=203.0.113.43", "192.0.2.60"),
        ('For="[2001:db8:cafe::17]:4711"', "2001:db8:cafe::17"),
        ('for=6.6.6.6, for="198.51.100.7:4431";proto=https', "198.51.100.7"),
        ("proto=https;for=::ffff:192.0.2.1", "192.0.2.1"),
    ],
)
def test_rfc7239_forwarded(header: str, expected: str) -> None:
    assert client_ip(request(ip="10.0.0.2", HTTP_FORWARDED=header)) == expected


@override_settings(**FORWARDED)
@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("for=unknown", "unknown"),
        ("for=_hidden", "obfuscated"),
        ('for="_SEVKISEK"', "obfuscated"),
        ("for=not-an-address", "invalid"),
        ("proto=https", "invalid"),
    ],
)
def test_unusable_forwarded_entries_are_logged_and_counted(
    header: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    before = CLIENT_IP_UNPARSED.labels(reason=reason)._value.get()
    with caplog.at_level(logging.WARNING, logger="hardening.clientip"):
        assert client_ip(request(ip="10.0.0.2", HTTP_FORWARDED=header)) == "10.0.0.2"
    assert CLIENT_IP_UNPARSED.labels(reason=reason)._value.get() == before + 1
    records = [r for r in caplog.records if r.name == "hardening.clientip"]
    assert records and records[0].levelno == logging.WARNING
    assert "request_id" in records[0].__dict__


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "hardening.clientip"]


def _unparsed(reason: str) -> float:
    return float(CLIENT_IP_UNPARSED.labels(reason=reason)._value.get())


@override_settings(**ONE_PROXY)
def test_unparseable_forwarded_for_is_logged_too(caplog: pytest.LogCaptureFixture) -> None:
    before = _unparsed("invalid")
    with caplog.at_level(logging.WARNING, logger="hardening.clientip"):
        assert client_ip(request(ip="10.0.0.2", HTTP_X_FORWARDED_FOR="garbage")) == "10.0.0.2"
    assert _unparsed("invalid") == before + 1
    [record] = _warnings(caplog)  # exactly one event, at WARNING, with the request id
    assert record.levelno == logging.WARNING
    assert record.__dict__["reason"] == "invalid"
    assert "request_id" in record.__dict__
    assert "X-Forwarded-For" in record.getMessage()
    assert "garbage" not in record.getMessage()  # never the header's text


@override_settings(**ONE_PROXY)
@pytest.mark.parametrize("remote", ["", "unix:/run/gunicorn.sock", None])
def test_a_unix_socket_peer_is_the_proxy_hop(remote: str | None) -> None:
    """gunicorn on a Unix socket sets ``REMOTE_ADDR=''`` (an ASGI server sends no client
    at all): behind nginx the client is in the header, not in the shared ``ip:unknown``."""
    req = request(HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7:4431")
    del req.META["REMOTE_ADDR"]
    if remote is not None:
        req.META["REMOTE_ADDR"] = remote
    assert client_ip(req) == "198.51.100.7"


@override_settings(**ONE_PROXY, HARDENING_TRUSTED_PROXIES=["10.0.0.0/8"])
def test_a_unix_socket_peer_is_trusted_with_trusted_networks_too() -> None:
    """Only a local process can connect to a Unix socket: it is the proxy."""
    assert client_ip(request(ip="", HTTP_X_FORWARDED_FOR="198.51.100.7")) == "198.51.100.7"


@override_settings(**ONE_PROXY)
def test_distinct_clients_behind_a_unix_socket_proxy_keep_their_buckets(
    clock: FakeClock,
) -> None:
    from tests.helpers.ratelimit import make, unique_ip

    mw = make()
    policies = [{"name": "ip", "key": "ip", "rates": ["1/m"]}]
    clients = [unique_ip() for _ in range(3)]
    with override_settings(HARDENING_RATELIMIT_POLICIES=policies):
        first = [mw(request(ip="", HTTP_X_FORWARDED_FOR=ip)) for ip in clients]
        again = mw(request(ip="", HTTP_X_FORWARDED_FOR=clients[0]))
    assert [r.status_code for r in first] == [200, 200, 200]
    assert again.status_code == 429


@pytest.mark.parametrize(
    ("count", "remote", "meta", "reason"),
    [
        (1, "", {}, "missing"),
        (1, "10.0.0.2", {}, "missing"),
        (1, "10.0.0.2", {"HTTP_X_FORWARDED_FOR": " , "}, "missing"),
        (2, "", {"HTTP_X_FORWARDED_FOR": "198.51.100.7"}, "short"),
        (2, "10.0.0.2", {"HTTP_X_FORWARDED_FOR": "198.51.100.7"}, "short"),
    ],
)
def test_a_missing_or_short_forwarded_header_is_logged_and_counted(
    count: int, remote: str, meta: dict[str, str], reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Fewer entries than trusted proxies: the fallback (REMOTE_ADDR, or the shared
    ``ip:unknown`` on a Unix socket) is never silent."""
    before = _unparsed(reason)
    with (
        override_settings(HARDENING_TRUSTED_PROXY_COUNT=count),
        caplog.at_level(logging.WARNING, logger="hardening.clientip"),
    ):
        assert client_ip(request(ip=remote, **meta)) == remote
    assert _unparsed(reason) == before + 1
    [record] = _warnings(caplog)
    assert record.levelno == logging.WARNING
    assert record.__dict__["reason"] == reason
    assert "request_id" in record.__dict__


@override_settings(**ONE_PROXY, HARDENING_TRUSTED_PROXIES=["10.0.0.0/8"])
def test_a_direct_client_outside_the_trusted_networks_is_not_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A health probe from another network sends no header and is no proxy: no noise."""
    with caplog.at_level(logging.WARNING, logger="hardening.clientip"):
        assert client_ip(request(ip="192.0.2.80")) == "192.0.2.80"
    assert _warnings(caplog) == []


@settings(max_examples=200, deadline=None)
@given(st.ip_addresses(v=4), st.ip_addresses(v=4))
def test_distinct_ipv4_clients_never_share_a_bucket_however_written(a: Any, b: Any) -> None:
    """Mapped, bracketed or with a port: two IPv4 clients keep two buckets (/32)."""
    if a == b:
        return
    forms = [
        "{}",
        "::ffff:{}",
        "[::ffff:{}]:8080",
        "{}:4431",
    ]
    with override_settings(**ONE_PROXY):
        for form in forms:
            ka = masked_ip(client_ip(request(ip="10.0.0.2", HTTP_X_FORWARDED_FOR=form.format(a))))
            kb = masked_ip(client_ip(request(ip="10.0.0.2", HTTP_X_FORWARDED_FOR=form.format(b))))
            assert ka == str(a) and kb == str(b) and ka != kb, form


@settings(max_examples=200, deadline=None)
@given(st.ip_addresses())
def test_any_address_round_trips_through_forwarded(address: Any) -> None:
    shown = f'"[{address}]:443"' if address.version == 6 else f"{address}:443"
    with override_settings(**FORWARDED):
        got = client_ip(request(ip="10.0.0.2", HTTP_FORWARDED=f"for={shown};proto=https"))
    mapped = getattr(address, "ipv4_mapped", None)
    assert ipaddress.ip_address(got) == (mapped or address)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_header_text_never_raises(text: str) -> None:
    with override_settings(**FORWARDED):
        got = client_ip(request(ip="10.0.0.2", HTTP_FORWARDED=text))
    ipaddress.ip_address(got)


def _status(url: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


@pytest.mark.server
def test_dual_stack_gunicorn_keeps_ipv4_and_ipv6_loopback_apart() -> None:
    """gunicorn on ``[::]``: 127.0.0.1 arrives as ``::ffff:127.0.0.1``.  Before the fix it
    was masked to ``::`` like ``::1``, so exhausting the limit over IPv4 blocked IPv6."""
    import socket

    from tests.servers import serve

    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    env = {"RATE_LIMIT_IP": "5/m", "RATE_LIMIT_GLOBAL": "100000/m"}
    with serve("gunicorn", env=env, host="::") as server:
        statuses = [server.get("/api/me").status for _ in range(10)]
        assert 429 in statuses, statuses  # the IPv4 client used up its own bucket
        assert _status(f"http://[::1]:{server.port}/api/me") == 401  # IPv6: its own bucket
        assert server.get("/api/me").status == 429  # and IPv4 is still limited


def _unix_status(path: str, forwarded_for: str) -> int:
    import http.client
    import socket

    class UnixConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(10)
            self.sock.connect(path)

    connection = UnixConnection("localhost")
    try:
        connection.request("GET", "/api/me", headers={"X-Forwarded-For": forwarded_for})
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.server
def test_gunicorn_on_a_unix_socket_keeps_clients_behind_the_proxy_apart(tmp_path: Any) -> None:
    """gunicorn bound to a Unix socket (nginx in front) sets ``REMOTE_ADDR=''``.  Before the
    fix the header was never read: every client shared ``ip:unknown``."""
    from tests.servers import serve

    sock = tmp_path / "gunicorn.sock"
    env = {"TRUSTED_PROXY_COUNT": "1", "RATE_LIMIT_IP": "2/m", "RATE_LIMIT_GLOBAL": "100000/m"}
    with serve("gunicorn", env=env, args=["--bind", f"unix:{sock}"], tmp_path=tmp_path):
        first = [_unix_status(str(sock), "6.6.6.6, 203.0.113.1") for _ in range(3)]
        assert first == [401, 401, 429]  # the first client used up its own bucket
        assert _unix_status(str(sock), "203.0.113.2") == 401  # the second has its own
