"""The tox environment tests the Django it is named for (pip may resolve another one)."""

from __future__ import annotations

import os

import django
import pytest


def test_django_is_the_version_the_environment_is_named_for() -> None:
    expected = os.environ.get("HARDENING_TEST_EXPECT_DJANGO")
    if not expected:
        pytest.skip("HARDENING_TEST_EXPECT_DJANGO is set by tox only")
    assert django.get_version().startswith(expected + "."), (
        f"tox environment for Django {expected} runs Django {django.get_version()}"
    )
