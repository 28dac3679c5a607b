"""tests/servers.py's ``unavailable``: a missing tool skips locally and fails under .ci/run."""

from __future__ import annotations

import pytest

from tests.servers import BROWSER_REQUIRED, SERVICES_REQUIRED, unavailable


@pytest.mark.parametrize("value", ["", "0", "false"])
def test_a_missing_tool_skips_unless_required(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(SERVICES_REQUIRED, value)
    monkeypatch.delenv(BROWSER_REQUIRED, raising=False)
    with pytest.raises(pytest.skip.Exception, match="needs redis-server"):
        unavailable("needs redis-server")


def test_a_missing_tool_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SERVICES_REQUIRED, "1")
    with pytest.raises(pytest.fail.Exception, match="HARDENING_TEST_REQUIRE_SERVICES is set"):
        unavailable("needs redis-server")
    monkeypatch.delenv(SERVICES_REQUIRED)
    monkeypatch.setenv(BROWSER_REQUIRED, "1")
    with pytest.raises(pytest.skip.Exception):  # not one of the variables asked about
        unavailable("needs redis-server")
    with pytest.raises(pytest.fail.Exception, match="HARDENING_TEST_REQUIRE_BROWSER is set"):
        unavailable("needs redis-server", BROWSER_REQUIRED, SERVICES_REQUIRED)
