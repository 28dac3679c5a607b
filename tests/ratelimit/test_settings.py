"""The rate-limit settings (``hardening.ratelimit.conf``): typed, never raising in a request,
every unusable value reported by a check, removed names reported by E032."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import override_settings

from hardening.ratelimit import ip
from hardening.ratelimit.ip import masked_ip
from tests.helpers.checks import check_error_codes, check_messages, production
from tests.helpers.ratelimit import User, make, request, unique_ip


@pytest.mark.parametrize(
    "changes",
    [
        {"HARDENING_RATELIMIT_POLICIES": "often"},
        {"HARDENING_RATELIMIT_POLICIES": [{"name": "x", "rate": "10/minute"}]},
        {"HARDENING_RATELIMIT_EXEMPT_PATHS": ["^(("]},
        {"HARDENING_RATELIMIT_BANS": {"tiers": [300, 0]}},
        {"HARDENING_RATELIMIT_BANS": {"tiers": ["soon"]}},
        {"HARDENING_RATELIMIT_ENABLED": "yes"},
        {"HARDENING_RATELIMIT_HEADERS": 1},
    ],
)
def test_an_unusable_value_never_fails_a_request(changes: dict[str, Any]) -> None:
    mw = make()
    with override_settings(**changes):
        assert mw(request(ip=unique_ip())).status_code == 200


def test_unusable_policies_fall_back_to_the_default_policies() -> None:
    mw = make()
    ip_address = unique_ip()
    with override_settings(HARDENING_RATELIMIT_POLICIES=[{"name": "x", "rate": "often"}]):
        codes = [mw(request(ip=ip_address)).status_code for _ in range(61)]
    assert codes == [200] * 60 + [429]  # the default anonymous 60/m


def test_unusable_exempt_paths_fall_back_to_the_default_exempt_paths() -> None:
    mw = make()
    policy = [{"name": "none", "key": "ip", "rate": "0/m"}]
    with override_settings(
        HARDENING_RATELIMIT_POLICIES=policy, HARDENING_RATELIMIT_EXEMPT_PATHS=["^(("]
    ):
        assert mw(request("/health/live")).status_code == 200
        assert mw(request("/api/me")).status_code == 429


def test_bans_are_one_setting_and_none_disables_them() -> None:
    policy = [{"name": "t", "key": "ip", "rate": "1/m"}]
    bans = {"threshold": 2, "window": 600, "tiers": [60], "memory": 3600}
    mw = make()
    address = unique_ip()
    with override_settings(HARDENING_RATELIMIT_POLICIES=policy, HARDENING_RATELIMIT_BANS=bans):
        codes = [mw(request(ip=address)).status_code for _ in range(3)]
        banned = mw(request(ip=address))
    assert codes == [200, 429, 429]
    assert json.loads(banned.content)["error"] == "banned"
    address = unique_ip()
    with override_settings(HARDENING_RATELIMIT_POLICIES=policy, HARDENING_RATELIMIT_BANS=None):
        replies = [mw(request(ip=address)) for _ in range(30)]
    assert {json.loads(r.content)["error"] for r in replies[1:]} == {"rate_limited"}


def test_a_partial_bans_dict_keeps_the_other_defaults() -> None:
    from hardening.ratelimit.conf import conf

    with override_settings(HARDENING_RATELIMIT_BANS={"threshold": 5}):
        bans = conf.HARDENING_RATELIMIT_BANS
    assert bans is not None
    assert (bans.threshold, bans.window, bans.tiers, bans.memory) == (
        5,
        600,
        (300, 3600, 86400),
        7 * 86400,
    )


CASES = [
    ({"HARDENING_RATELIMIT_BANS": {"threshold": 0}}, "hardening.E304"),
    ({"HARDENING_RATELIMIT_BANS": {"tiers": []}}, "hardening.E304"),
    ({"HARDENING_RATELIMIT_BANS": {"window": -1}}, "hardening.E304"),
    ({"HARDENING_RATELIMIT_BANS": {"memory": 1.5}}, "hardening.E304"),
    ({"HARDENING_RATELIMIT_BANS": {"length": 60}}, "hardening.E304"),
    ({"HARDENING_RATELIMIT_BANS": 20}, "hardening.E304"),
    ({"HARDENING_RATELIMIT_EXEMPT_PATHS": ["health/"]}, "hardening.E300"),
    ({"HARDENING_RATELIMIT_ENABLED": "yes"}, "hardening.E306"),
    ({"HARDENING_RATELIMIT_HEADERS": 1}, "hardening.E306"),
]


@pytest.mark.parametrize(("changes", "code"), CASES)
def test_each_unusable_value_is_reported(changes: dict[str, object], code: str) -> None:
    with production(**changes):
        assert check_error_codes().get(code) == "ERROR"
    with production(HARDENING_ENVIRONMENT="development", **changes):
        assert check_error_codes().get(code) == "WARNING"


def test_the_documented_bans_and_none_are_clean() -> None:
    documented = {"threshold": 20, "window": 600, "tiers": [300, 3600, 86400], "memory": 604800}
    for bans in (documented, None):
        with production(HARDENING_RATELIMIT_BANS=bans):
            codes = check_error_codes()
        assert "hardening.E304" not in codes, codes


REMOVED = {
    "HARDENING_RATELIMIT_CACHE": "HARDENING_CACHE",
    "HARDENING_RATELIMIT_BAN_THRESHOLD": "HARDENING_RATELIMIT_BANS",
    "HARDENING_RATELIMIT_BAN_WINDOW": "HARDENING_RATELIMIT_BANS",
    "HARDENING_RATELIMIT_BAN_TIERS": "HARDENING_RATELIMIT_BANS",
    "HARDENING_RATELIMIT_BAN_MEMORY": "HARDENING_RATELIMIT_BANS",
    "HARDENING_RATELIMIT_IPV4_MASK": "hardening.ratelimit.ip.IPV4_MASK",
    "HARDENING_RATELIMIT_IPV6_MASK": "hardening.ratelimit.ip.IPV6_MASK",
}


@pytest.mark.parametrize(("name", "instead"), REMOVED.items())
def test_a_removed_setting_is_e032_naming_its_replacement(name: str, instead: str) -> None:
    with production(**{name: 1}):
        found = [m for m in check_messages() if m.id == "hardening.E032" and name in m.msg]
    assert len(found) == 1 and instead in (found[0].hint or ""), found


def test_masks_are_module_constants(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (ip.IPV4_MASK, ip.IPV6_MASK) == (32, 64)
    assert masked_ip("2001:db8:1:2:3::9") == "2001:db8:1:2::"
    monkeypatch.setattr(ip, "IPV6_MASK", 48)
    monkeypatch.setattr(ip, "IPV4_MASK", 24)
    assert masked_ip("2001:db8:1:2:3::9") == "2001:db8:1::"
    assert masked_ip("192.0.2.77") == "192.0.2.0"


def test_the_shared_cache_is_the_core_cache() -> None:
    mw = make()
    user = User()
    limit = [{"name": "t", "key": "user", "rate": "1/m"}]
    broken = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",  # discard port: connection refused
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
    local = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    with override_settings(
        CACHES={"default": local, "broken": broken},
        HARDENING_CACHE="broken",
        HARDENING_RATELIMIT_POLICIES=limit,
    ):
        assert [mw(request(user=user)).status_code for _ in range(2)] == [200, 200]  # open
