"""The stateless user of an external issuer's token, and a static key that will not load."""

from __future__ import annotations

import pytest

from hardening.jwt.fetch import KeyLookupError
from hardening.jwt.issuers import ClaimsUser, StaticKey


def test_claims_user_is_a_user_without_permissions() -> None:
    user = ClaimsUser({"sub": "user_2abc", "email": "a@example.com"}, "clerk")
    assert str(user) == user.get_username() == user.pk == "user_2abc"
    assert user.is_authenticated and not user.is_anonymous and not user.is_superuser
    assert not user.has_perm("app.view_thing")
    assert not user.has_perms(["app.view_thing"])
    assert not user.has_module_perms("app")


def test_claims_users_are_equal_by_issuer_kind_and_subject() -> None:
    one = ClaimsUser({"sub": "42"}, "clerk")
    assert one == ClaimsUser({"sub": 42, "other": "claim"}, "clerk")
    assert one != ClaimsUser({"sub": "42"}, "oidc")
    assert one != "42"
    assert len({one, ClaimsUser({"sub": "42"}, "clerk")}) == 1


def test_a_static_key_that_is_not_a_public_key_is_refused() -> None:
    with pytest.raises(KeyLookupError, match="bad_public_key"):
        StaticKey("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n")
