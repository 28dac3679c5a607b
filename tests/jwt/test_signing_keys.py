"""The own signing keys' parsing and rotation edges (hardening.jwt.signingkey,
hardening.jwt.ownkeys, manage.py rotate_jwt_keys) and the JWT settings' parsers
(hardening.jwt.conf)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from io import StringIO
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519
from django.core.management import call_command
from django.core.management.base import CommandError

from hardening.jwt import ownkeys, signingkey
from hardening.jwt.conf import conf
from tests.helpers.clock import FakeClock
from tests.jwt.helpers import ec_key, private_pem, public_pem, rsa_key

DAY = 86400.0


def rotate(*args: str) -> tuple[list[dict[str, Any]], str]:
    out, err = StringIO(), StringIO()
    call_command("rotate_jwt_keys", *args, stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


@pytest.mark.parametrize(
    ("algorithm", "kty", "curve"),
    [
        ("ES256", "EC", "P-256"),
        ("ES384", "EC", "P-384"),
        ("ES512", "EC", "P-521"),
        ("EdDSA", "OKP", "Ed25519"),
    ],
)
def test_rotate_makes_a_key_for_the_algorithm_that_is_published_before_it_signs(
    settings: Any, clock: FakeClock, algorithm: str, kty: str, curve: str
) -> None:
    settings.HARDENING_JWT_ALGORITHM = algorithm
    settings.HARDENING_JWT_SIGNING_KEY = []
    entries, err = rotate("--activate-in", "60")
    (entry,) = entries
    key = serialization.load_pem_private_key(entry["key"].encode(), password=None)
    if kty == "OKP":
        assert isinstance(key, ed25519.Ed25519PrivateKey)
    else:
        assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert entry["kid"] == signingkey.thumbprint(signingkey.public_pem(entry["key"]))
    assert entry["active_from"] == "2027-01-15T08:01:00Z"  # the fake clock's now + 60 s
    assert f"New key {entry['kid']} signs from 2027-01-15T08:01:00Z" in err
    settings.HARDENING_JWT_SIGNING_KEY = entries
    (published,) = ownkeys.jwks()["keys"]
    assert (published["kid"], published["kty"], published["crv"]) == (entry["kid"], kty, curve)
    assert published["alg"] == algorithm and "d" not in published
    assert ownkeys.signing_kid() == ""  # not signing yet
    clock.advance(61)
    assert ownkeys.signing_kid() == entry["kid"]


@pytest.mark.parametrize("algorithm", ["HS256", "HS512", "none"])
def test_rotate_refuses_algorithms_without_a_key_pair(settings: Any, algorithm: str) -> None:
    settings.HARDENING_JWT_ALGORITHM = algorithm
    settings.HARDENING_JWT_SIGNING_KEY = "a shared secret that is long enough to be used here"
    with pytest.raises(CommandError, match=f"{algorithm} keys are not rotated here"):
        rotate()


def test_rotate_drops_retired_keys_and_never_activates_in_the_past(
    settings: Any, clock: FakeClock
) -> None:
    now = clock.now()
    settings.HARDENING_JWT_ALGORITHM = "ES256"
    settings.HARDENING_JWT_ACCESS_TOKEN_LIFETIME = 900
    settings.HARDENING_JWT_REFRESH_TOKEN_LIFETIME = DAY
    settings.HARDENING_JWT_SIGNING_KEY = [
        {"kid": "oldest", "key": private_pem(ec_key("oldest")), "active_from": now - 10 * DAY},
        {"kid": "old", "key": private_pem(ec_key("old")), "active_from": now - 2 * DAY},
        {"kid": "current", "key": private_pem(ec_key("current")), "active_from": now - 60},
    ]
    entries, err = rotate("--activate-in", "-3600")
    # "oldest" was replaced two days ago (longer than any token lives): dropped.  "old" was
    # replaced a minute ago: tokens it signed are still valid, so it stays.
    assert [e["kid"] for e in entries][:2] == ["old", "current"]
    assert len(entries) == 3 and "dropped 1 retired key(s)" in err
    assert entries[2]["active_from"] == "2027-01-15T08:00:00Z"  # now, not an hour ago
    assert entries[0]["active_from"] == "2027-01-13T08:00:00Z"


def test_active_from_forms(clock: FakeClock) -> None:
    pem = private_pem(ec_key("forms"))
    naive = datetime(2027, 1, 1, 12, 0)
    aware = datetime(2027, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    keys = signingkey.parse_keys(
        [
            {"kid": "naive", "key": pem, "active_from": naive},  # read as UTC
            {"kid": "aware", "key": pem, "active_from": aware},
            {"kid": "text", "key": pem, "active_from": "2027-01-01T13:00:00Z"},
            {"kid": "number", "key": pem, "active_from": 5},
        ]
    )
    moments = {k.kid: k.active_from for k in keys}
    utc_noon = datetime(2027, 1, 1, 12, 0, tzinfo=timezone.utc).timestamp()
    assert moments == {
        "number": 5.0,
        "aware": utc_noon - 7200,
        "naive": utc_noon,
        "text": utc_noon + 3600,
    }
    assert [k.kid for k in keys] == ["number", "aware", "naive", "text"]  # oldest first


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ({"key": "x"}, TypeError, "expected a key or a list of dicts, got dict"),
        (42, TypeError, "expected a key or a list of dicts, got int"),
        ([{"key": "x", "active_from": True}], TypeError, "expected a date, got a bool"),
        ([{"key": "x", "active_from": [2027]}], TypeError, "expected an ISO 8601 date, got list"),
        ([{"key": "x", "active_from": "next tuesday"}], ValueError, "Invalid isoformat"),
        ([{"key": "x", "kid": 7}], ValueError, "entry 0: 'kid' must be a string"),
        (["x"], ValueError, "entry 0: expected a dict with a 'key' string"),
        ([{"key": ""}], ValueError, "entry 0: expected a dict with a 'key' string"),
    ],
)
def test_unusable_signing_key_values(value: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        signingkey.parse_keys(value)


def test_an_unusable_value_means_no_own_keys_at_all(settings: Any) -> None:
    settings.HARDENING_JWT_ALGORITHM = "ES256"
    settings.HARDENING_JWT_SIGNING_KEY = [{"key": private_pem(ec_key("a")), "active_from": True}]
    assert ownkeys.raw_keys() == ()
    assert ownkeys.jwks() == {"keys": []}
    assert ownkeys.signing_kid() == ""
    assert ownkeys.verifying_key(None, "ES256") == ""
    assert conf.HARDENING_JWT_SIGNING_KEY == ""  # the setting's default: nothing signs
    assert ("HARDENING_JWT_SIGNING_KEY", "active_from: expected a date, got a bool") in (
        conf.problems()
    )


def test_an_unreadable_pem_has_no_public_half_and_no_thumbprint() -> None:
    broken = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"
    assert signingkey.public_pem(broken) == ""
    assert signingkey.public_pem("a shared secret") == ""
    (key,) = signingkey.parse_keys([{"key": broken}])
    assert (key.kid, key.public) == ("", "")


def test_a_public_key_of_an_unsupported_type_has_no_jwk() -> None:
    dsa_public = (
        dsa.generate_private_key(key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(ValueError, match="unsupported public key"):
        signingkey.public_jwk(dsa_public)


def test_a_single_key_does_not_verify_a_token_naming_another_kid(settings: Any) -> None:
    settings.HARDENING_JWT_ALGORITHM = "RS256"
    settings.HARDENING_JWT_SIGNING_KEY = private_pem(rsa_key("own"))
    settings.HARDENING_JWT_VERIFYING_KEY = public_pem(rsa_key("own"))
    own = signingkey.thumbprint(public_pem(rsa_key("own")))
    assert ownkeys.verifying_key(own, "RS256") == public_pem(rsa_key("own"))
    assert ownkeys.verifying_key(None, "RS256") == public_pem(rsa_key("own"))
    assert ownkeys.verifying_key("someone-else", "RS256") == ""


def test_keys_of_another_family_than_the_algorithm_are_not_published(
    settings: Any, clock: FakeClock
) -> None:
    settings.HARDENING_JWT_ALGORITHM = "RS256"
    settings.HARDENING_JWT_SIGNING_KEY = [
        {"kid": "ec", "key": private_pem(ec_key("stray"))},  # cannot sign RS256 tokens
        {"kid": "rsa", "key": private_pem(rsa_key("own")), "active_from": clock.now() - 60},
    ]
    assert not ownkeys.retired(ownkeys.raw_keys())
    assert [k["kid"] for k in ownkeys.jwks()["keys"]] == ["rsa"]


def test_lifetimes_accept_a_timedelta(settings: Any) -> None:
    settings.HARDENING_JWT_ACCESS_TOKEN_LIFETIME = timedelta(minutes=5)
    settings.HARDENING_JWT_REFRESH_TOKEN_LIFETIME = timedelta(days=2, seconds=0.5)
    assert conf.HARDENING_JWT_ACCESS_TOKEN_LIFETIME == 300
    assert conf.HARDENING_JWT_REFRESH_TOKEN_LIFETIME == 2 * 86400
    settings.HARDENING_JWT_ACCESS_TOKEN_LIFETIME = timedelta(0)
    assert conf.HARDENING_JWT_ACCESS_TOKEN_LIFETIME == 900  # unusable: the default, and E
    assert any(name == "HARDENING_JWT_ACCESS_TOKEN_LIFETIME" for name, _ in conf.problems())


def test_issuers_setting_shapes(settings: Any) -> None:
    settings.HARDENING_JWT_ISSUERS = None
    assert conf.HARDENING_JWT_ISSUERS == []
    settings.HARDENING_JWT_ISSUERS = [
        {"issuer": "https://a.example/", "public_key": "x", "max_lifetime": timedelta(hours=1)}
    ]
    assert conf.HARDENING_JWT_ISSUERS[0]["max_lifetime"] == 3600
    settings.HARDENING_JWT_ISSUERS = [{"issuer": "https://a.example/", "max_lifetime": 0}]
    why = dict(conf.problems())["HARDENING_JWT_ISSUERS"]
    assert why == "entry 0: 'max_lifetime': expected seconds above 0 (or a timedelta), got 0"
    settings.HARDENING_JWT_ISSUERS = ["https://a.example/"]
    assert dict(conf.problems())["HARDENING_JWT_ISSUERS"] == "entry 0: expected a dict, got str"
    assert conf.HARDENING_JWT_ISSUERS == []
