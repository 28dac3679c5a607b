from __future__ import annotations

from typing import Any

import pytest

from hardening.mfa.models import TOTPDevice
from tests.helpers.clock import clock  # noqa: F401 - the shared fake clock fixture
from tests.helpers.mfa import PASSWORD, _clear_cache, make_device  # noqa: F401 - autouse


@pytest.fixture
def user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("alice", password=PASSWORD)


@pytest.fixture
def device(user: Any) -> TOTPDevice:
    return make_device(user)
