"""The example project's wiring: auth routes limited, the admin page and the command."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from tests.helpers.clock import FakeClock
from tests.helpers.ratelimit import User, make, request, unique_ip


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/auth/token", "/api/auth/mfa", "/admin/login/"])
def test_example_auth_routes_allow_10_per_minute_per_ip(path: str) -> None:
    client = Client(REMOTE_ADDR=unique_ip())
    codes = [client.post(path, {}, content_type="application/json").status_code for _ in range(11)]
    assert 429 not in codes[:10]
    assert codes[10] == 429
    # Other routes are not affected by the auth policy.
    assert client.get("/api/me").status_code != 429


def test_health_is_exempt_in_the_example() -> None:
    client = Client(REMOTE_ADDR=unique_ip())
    with override_settings(
        HARDENING_RATELIMIT_POLICIES=[{"name": "none", "key": "ip", "rate": "0/m"}]
    ):
        assert client.get("/health/live").status_code != 429
        assert client.get("/api/me").status_code == 429


def test_lift_ban_command_validates_input() -> None:
    with pytest.raises(CommandError):
        call_command("lift_ban", ip="not-an-ip")
    with pytest.raises(CommandError, match="Redis"):
        call_command("lift_ban", list=True)


@pytest.mark.redis
@override_settings(
    HARDENING_CACHE="redis",
    HARDENING_RATELIMIT_BANS={"threshold": 1},
    HARDENING_RATELIMIT_POLICIES=[{"name": "t", "key": "ip", "rate": "1/m"}],
)
def test_lift_ban_lists_and_lifts_ip_bans(
    capsys: pytest.CaptureFixture[str], clock: FakeClock
) -> None:
    mw = make()
    ip = unique_ip()
    assert [mw(request(ip=ip)).status_code for _ in range(3)] == [200, 429, 429]
    call_command("lift_ban", list=True)
    assert f"ip:{ip}\t" in capsys.readouterr().out
    call_command("lift_ban", ip=ip)
    assert "lifted" in capsys.readouterr().out
    call_command("lift_ban", list=True)
    assert f"ip:{ip}\t" not in capsys.readouterr().out


@pytest.mark.django_db
@override_settings(
    HARDENING_RATELIMIT_BANS={"threshold": 1},
    HARDENING_RATELIMIT_POLICIES=[{"name": "t", "key": "user", "rate": "1/m", "paths": ["/api/"]}],
)
def test_admin_page_lifts_a_ban(clock: FakeClock) -> None:
    mw = make()
    victim = User()
    assert [mw(request(user=victim)).status_code for _ in range(3)] == [200, 429, 429]
    admin = get_user_model().objects.create_superuser(
        f"admin-{uuid.uuid4().hex[:6]}", password="x-123456789"
    )
    client = Client(REMOTE_ADDR=unique_ip())
    assert client.get("/admin/ratelimit/bans/").status_code == 302  # login first
    client.force_login(admin)
    page = client.get("/admin/ratelimit/bans/")
    assert page.status_code == 200 and b"Lift ban" in page.content
    assert caches["default"].get(f"hrl:ban:{{u:{victim.pk}}}") is not None
    lifted = client.post("/admin/ratelimit/bans/", {"identity": f"u:{victim.pk}"})
    assert lifted.status_code == 302
    assert caches["default"].get(f"hrl:ban:{{u:{victim.pk}}}") is None


@pytest.mark.django_db
@override_settings(
    HARDENING_RATELIMIT_BANS={"threshold": 1},
    HARDENING_RATELIMIT_POLICIES=[{"name": "t", "key": "user", "rate": "1/m", "paths": ["/api/"]}],
)
def test_user_admin_action_lifts_the_selected_users_bans(
    caplog: pytest.LogCaptureFixture, clock: FakeClock
) -> None:
    mw = make()
    users = get_user_model().objects
    banned, other = (users.create_user(f"u-{uuid.uuid4().hex[:8]}") for _ in range(2))
    for user in (banned, other):
        codes = [mw(request(user=User(str(user.pk)))).status_code for _ in range(3)]
        assert codes == [200, 429, 429]
    staff = users.create_user(
        f"staff-{uuid.uuid4().hex[:6]}", password="x-123456789", is_staff=True
    )
    admin = users.create_superuser(f"admin-{uuid.uuid4().hex[:6]}", password="x-123456789")
    client = Client(REMOTE_ADDR=unique_ip())
    form = {"action": "lift_rate_limit_bans", "_selected_action": [banned.pk]}

    # A staff member without the change permission neither sees nor runs the action.
    client.force_login(staff)
    assert client.get("/admin/auth/user/").status_code == 403
    client.post("/admin/auth/user/", form)
    assert caches["default"].get(f"hrl:ban:{{u:{banned.pk}}}") is not None

    client.force_login(admin)
    page = client.get("/admin/auth/user/")
    assert page.status_code == 200 and b"lift_rate_limit_bans" in page.content
    with caplog.at_level("INFO", logger="hardening.audit"):
        done = client.post("/admin/auth/user/", form, follow=True)
    assert done.status_code == 200
    assert b"Lifted 1 active ban(s) among 1 selected user(s)." in done.content
    assert caches["default"].get(f"hrl:ban:{{u:{banned.pk}}}") is None
    assert caches["default"].get(f"hrl:ban:{{u:{other.pk}}}") is not None  # not selected
    assert any(getattr(r, "event", None) == "ratelimit.unbanned" for r in caplog.records)


def test_a_ban_identity_needs_an_address_a_user_or_a_key() -> None:
    from hardening.ratelimit.bans import identity_for

    assert identity_for(user="42") == "u:42"
    assert identity_for(ip="192.0.2.9") == "ip:192.0.2.9"
    with pytest.raises(ValueError, match="give an IP address, a user id or an API key"):
        identity_for()
    with pytest.raises(ValueError):
        identity_for(ip="not-an-address")
