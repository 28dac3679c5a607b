from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import caches

from hardening.mfa import clock, devices, totp
from hardening.mfa.models import TOTPDevice

RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # ASCII 12345678901234567890
PASSWORD = "correct horse battery staple"


@dataclass
class Clock:
    t: float = 1_699_999_981.0  # 1 s into a 30-s step

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds

    def next_step(self, period: int = 30) -> None:
        self.t = (int(self.t // period) + 1) * period + 1


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(clock, "now", c.now)
    return c


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    caches["default"].clear()  # LocMem only: never a shared server
    yield
    caches["default"].clear()


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", password=PASSWORD)


def make_device(user: Any, *, name: str = "default", confirmed: bool = True) -> TOTPDevice:
    device, _secret = devices.create_device(user, name)
    device.secret = RFC_SECRET
    device.confirmed = confirmed
    device.save()
    return device


def code_now(fake: Clock, *, offset: int = 0, digits: int = 6) -> str:
    return totp.code_at(RFC_SECRET, int(fake.t // 30) + offset, digits=digits)


@pytest.fixture
def device(user: Any) -> TOTPDevice:
    return make_device(user)
