"""The header room's settings: a CSP in SECURE_CSP's format, and a bad SECURE_CSP."""

from __future__ import annotations

import pytest
from django.test import override_settings

from hardening.env import DEFAULT_CSP
from hardening.headers import conf as headers_conf


def test_csp_accepts_django_6s_format_and_refuses_other_sources() -> None:
    policy = {"default-src": ["'self'"], "upgrade-insecure-requests": True, "img-src": None}
    assert headers_conf.csp(policy) == policy
    with pytest.raises(ValueError, match="'img-src': expected a list of sources"):
        headers_conf.csp({"img-src": ["'self'", 3]})
    with pytest.raises(ValueError, match="expected a list of sources"):
        headers_conf.csp({"img-src": 3})


@override_settings(SECURE_CSP={"default-src": [3]})
def test_a_secure_csp_django_would_refuse_falls_back_to_the_default() -> None:
    assert headers_conf._default_csp(None) == DEFAULT_CSP


@override_settings(SECURE_CSP={"default-src": ["'self'"]})
def test_a_good_secure_csp_is_the_default() -> None:
    assert headers_conf._default_csp(None) == {"default-src": ["'self'"]}
