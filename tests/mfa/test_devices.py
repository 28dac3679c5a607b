"""Verification, replay and per-device back-off, with a controllable clock."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from hardening.mfa import devices
from hardening.mfa.devices import verify_totp
from hardening.mfa.models import TOTPDevice
from tests.helpers.clock import FakeClock
from tests.helpers.mfa import code_now, make_device

pytestmark = pytest.mark.django_db


def confirmed(user: Any) -> Any:
    return TOTPDevice.objects.filter(user=user, confirmed=True)


def test_valid_code_is_accepted_once(user: Any, device: TOTPDevice, clock: FakeClock) -> None:
    code = code_now(clock)
    first = verify_totp(confirmed(user), code)
    assert first.ok and first.device_id == device.pk
    device.refresh_from_db()
    assert device.last_t == int(clock.t // 30)
    second = verify_totp(confirmed(user), code)
    assert not second.ok and second.reason == "replay"
    # Still a replay later in the same step, and not a failure that throttles.
    clock.advance(10)
    assert verify_totp(confirmed(user), code).reason == "replay"
    device.refresh_from_db()
    assert device.failure_count == 0


def test_next_step_code_is_accepted(user: Any, device: TOTPDevice, clock: FakeClock) -> None:
    assert verify_totp(confirmed(user), code_now(clock)).ok
    clock.next_step()
    assert verify_totp(confirmed(user), code_now(clock)).ok


def test_old_step_is_rejected_with_tolerance_zero(
    user: Any, device: TOTPDevice, clock: FakeClock
) -> None:
    old = code_now(clock, offset=-1)
    assert verify_totp(confirmed(user), old).reason == "invalid"


@override_settings(HARDENING_MFA_TOTP_TOLERANCE=1)
def test_tolerance_one_accepts_previous_step_but_not_older_than_last(
    user: Any, device: TOTPDevice, clock: FakeClock
) -> None:
    assert verify_totp(confirmed(user), code_now(clock)).ok
    # The previous step's code is inside the window but not after last_t: replay.
    assert verify_totp(confirmed(user), code_now(clock, offset=-1)).reason == "replay"
    # The next step's code (clock drift the other way) is accepted.
    assert verify_totp(confirmed(user), code_now(clock, offset=1)).ok


def test_exponential_backoff_timings(user: Any, device: TOTPDevice, clock: FakeClock) -> None:
    bad = "000000" if code_now(clock) != "000000" else "111111"
    waits = []
    for _ in range(5):
        outcome = verify_totp(confirmed(user), bad)
        assert outcome.reason == "invalid"
        waits.append(outcome.retry_after)
        device.refresh_from_db()
        wait = device.throttled_until - clock.t
        # Right before the back-off ends, even the right code is refused unchecked.
        clock.advance(wait - 0.5)
        refused = verify_totp(confirmed(user), code_now(clock))
        assert refused.reason == "throttled" and refused.retry_after == 1
        clock.advance(0.5)
    assert waits == [1, 2, 4, 8, 16]
    device.refresh_from_db()
    assert device.failure_count == 5
    # A success resets the back-off.
    clock.next_step()
    assert verify_totp(confirmed(user), code_now(clock)).ok
    device.refresh_from_db()
    assert device.failure_count == 0 and device.throttled_until is None
    assert verify_totp(confirmed(user), bad).retry_after == 1


def test_throttle_factor_scales(
    user: Any, device: TOTPDevice, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(devices, "THROTTLE_FACTOR", 10)
    assert verify_totp(confirmed(user), "000001").retry_after == 10
    device.refresh_from_db()
    assert device.throttled_until == pytest.approx(clock.t + 10)
    clock.advance(10)
    verify_totp(confirmed(user), "000001")
    device.refresh_from_db()
    assert device.throttled_until == pytest.approx(clock.t + 20)


def test_several_devices(user: Any, clock: FakeClock) -> None:
    phone = make_device(user, name="phone")
    laptop = TOTPDevice.objects.create(
        user=user, name="laptop", encrypted_secret=phone.encrypted_secret, confirmed=True
    )
    laptop.secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    laptop.save()
    from hardening.mfa.totp import code_at

    code = code_at("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", int(clock.t // 30), digits=6)
    outcome = verify_totp(confirmed(user), code)
    assert outcome.ok and outcome.device_id == laptop.pk
    phone.refresh_from_db()
    assert phone.last_t == -1


def test_unconfirmed_device_is_not_used_for_login(user: Any, clock: FakeClock) -> None:
    make_device(user, confirmed=False)
    assert verify_totp(confirmed(user), code_now(clock)).reason == "no_device"


def test_confirm_marks_device_confirmed(user: Any, clock: FakeClock) -> None:
    pending = make_device(user, confirmed=False)
    outcome = verify_totp(TOTPDevice.objects.filter(pk=pending.pk), code_now(clock), confirm=True)
    assert outcome.ok
    pending.refresh_from_db()
    assert pending.confirmed and pending.last_t == int(clock.t // 30)
