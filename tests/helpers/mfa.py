"""MFA test helpers: a user's password, a device with the RFC 6238 secret, its codes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches

from hardening.mfa import devices, totp
from hardening.mfa.models import TOTPDevice
from tests.helpers.clock import FakeClock

RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # ASCII 12345678901234567890
PASSWORD = "correct horse battery staple"


def make_device(user: Any, *, name: str = "default", confirmed: bool = True) -> TOTPDevice:
    device, _secret = devices.create_device(user, name)
    device.secret = RFC_SECRET
    device.confirmed = confirmed
    device.save()
    return device


def code_now(clock: FakeClock, *, offset: int = 0, digits: int = 6) -> str:
    """The RFC secret's code at ``clock``'s time step (``offset`` steps away)."""
    return totp.code_at(RFC_SECRET, int(clock.t // 30) + offset, digits=digits)


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """Autouse where a conftest imports it: the counters and locks of one test never reach
    the next (LocMem only: never a shared server)."""
    caches["default"].clear()
    yield
    caches["default"].clear()
