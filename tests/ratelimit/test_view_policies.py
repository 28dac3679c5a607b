"""The per-view policies resolve the view only when some view is decorated: a process
without ``@rate_limit`` views skips what would be a second URL resolve per request."""

from __future__ import annotations

import sys

import pytest
from django.test import RequestFactory

from hardening.ratelimit import decorators


def test_no_decorated_view_means_no_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decorators, "_decorated", 0)
    monkeypatch.setattr(decorators, "_loaded", {"tests.ratelimit.urls"})

    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("resolved")

    monkeypatch.setattr(decorators, "resolve", boom)
    request = RequestFactory().get("/anything")
    request.urlconf = "tests.ratelimit.urls"
    assert decorators.view_policies(request) == ()


def test_a_urlconf_not_yet_imported_is_imported_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decorators, "_decorated", 0)
    monkeypatch.setattr(decorators, "_loaded", set())
    monkeypatch.delitem(sys.modules, "tests.ratelimit.lazy_urls", raising=False)
    request = RequestFactory().get("/lazy/")
    request.urlconf = "tests.ratelimit.lazy_urls"
    policies = decorators.view_policies(request)
    assert [p.name for p in policies] == ["lazy"]
