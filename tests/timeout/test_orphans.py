"""``hardening_timeout_orphaned_threads`` counts sync work still running in a thread after
its request was answered 504, and nothing else (a cancelled async view is not one)."""

from __future__ import annotations

import asyncio
import time

import pytest
from django.test import AsyncClient

from hardening.timeout.runner import ORPHANS
from tests.timeout.helpers import timeout_settings

pytestmark = pytest.mark.timeout(60)


def orphans() -> float:
    return float(ORPHANS._value.get())


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every increment of the gauge (a blip that ends at once still counts)."""
    seen: list[float] = []
    inc = ORPHANS.inc

    def spy(amount: float = 1) -> None:
        seen.append(amount)
        inc(amount)

    monkeypatch.setattr(ORPHANS, "inc", spy)
    return seen


async def settled() -> bool:
    end = time.monotonic() + 5
    while orphans() and time.monotonic() < end:
        await asyncio.sleep(0.02)
    return orphans() == 0


@timeout_settings(0.3)
async def test_a_cancelled_async_view_is_not_an_orphan(counted: list[float]) -> None:
    response = await AsyncClient().get("/async-sleep")
    assert response.status_code == 504
    assert counted == []
    assert await settled()


@timeout_settings(0.3)
async def test_a_sync_view_still_running_is_one_orphan_until_it_returns(
    counted: list[float],
) -> None:
    response = await AsyncClient().get("/sync-sleep?s=0.8")
    assert response.status_code == 504
    assert counted == [1]
    assert orphans() == 1  # its thread still sleeps
    assert await settled()  # and is no longer counted once the view has returned
