"""Every attack row of the research list: the token is built, sent to /api/me, and must
give 401 with the expected bounded reason and no outbound request."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from hardening.observability.metrics import AUTH_FAILURES
from tests.jwt.helpers import (
    AUDIENCE,
    OIDC_ISSUER,
    JWKSServer,
    b64,
    claims,
    jwk,
    public_pem,
    rsa_key,
    sign,
    sign_raw,
)

Builder = Callable[[str], str]  # attacker JWKS URL -> token


def good(**changes: Any) -> dict[str, Any]:
    values = {"iss": OIDC_ISSUER, "aud": AUDIENCE, **changes}
    return claims(values.pop("iss"), **values)


def with_header(**header: Any) -> str:
    head = {"alg": "RS256", "typ": "JWT", **header}
    return sign_raw(head, json.dumps(good()).encode())


def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: str = "") -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}.{signature}"


def hs256_with(key: bytes, header: dict[str, Any] | None = None) -> str:
    head = {"alg": "HS256", "typ": "JWT", "kid": "k1", **(header or {})}
    signing_input = f"{b64(json.dumps(head).encode())}.{b64(json.dumps(good()).encode())}"
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def transplant() -> str:
    forged = sign(good(sub="admin"), rsa_key("attacker"))
    genuine = sign(good())
    return forged.rsplit(".", 1)[0] + "." + genuine.rsplit(".", 1)[1]


def raw_payload(text: str) -> str:
    return sign_raw({"alg": "RS256", "typ": "JWT", "kid": "k1"}, text.encode())


def now() -> int:
    """Read when a case builds its token, not at collection: under pytest-randomly this
    module may run many minutes after it was imported (a 'future' iat is then past)."""
    return int(time.time())


ATTACKER = rsa_key("attacker")

CASES: list[tuple[str, Builder, str]] = [
    ("alg-none", lambda u: unsigned({"alg": "none"}, good()), "alg_none"),
    ("alg-NoNe", lambda u: unsigned({"alg": "NoNe"}, good()), "alg_none"),
    ("alg-none-with-sig", lambda u: unsigned({"alg": "none"}, good(), "abc"), "alg_none"),
    ("signature-stripped", lambda u: sign(good()).rsplit(".", 1)[0] + ".", "malformed"),
    ("two-segments", lambda u: sign(good()).rsplit(".", 1)[0], "malformed"),
    ("five-segments", lambda u: sign(good()) + ".a.b", "malformed"),
    ("signature-transplant", lambda u: transplant(), "signature"),
    ("attacker-key-same-kid", lambda u: sign(good(), ATTACKER), "signature"),
    ("hs-rs-confusion-pem", lambda u: hs256_with(public_pem(rsa_key()).encode()), "algorithm"),
    (
        "hs-rs-confusion-jwk",
        lambda u: hs256_with(json.dumps(jwk(rsa_key(), "k1")).encode()),
        "algorithm",
    ),
    ("alg-rs512-not-allowed", lambda u: sign(good(), alg="RS512"), "algorithm"),
    ("alg-ps256-not-allowed", lambda u: sign(good(), alg="PS256"), "algorithm"),
    (
        "embedded-jwk",
        lambda u: sign(good(), ATTACKER, headers={"jwk": jwk(ATTACKER, "k1")}),
        "header",
    ),
    ("jku", lambda u: sign(good(), ATTACKER, headers={"jku": u}), "header"),
    ("x5u", lambda u: sign(good(), ATTACKER, headers={"x5u": u}), "header"),
    ("x5c", lambda u: sign(good(), ATTACKER, headers={"x5c": ["MIIB"]}), "header"),
    (
        "kid-path-traversal-hs256",
        lambda u: hs256_with(b"", {"kid": "../../../../dev/null"}),
        "algorithm",
    ),
    ("kid-sql-injection", lambda u: sign(good(), ATTACKER, kid="' OR '1'='1"), "bad_kid"),
    ("kid-object", lambda u: with_header(kid={"a": 1}), "bad_kid"),
    ("kid-number", lambda u: with_header(kid=7), "bad_kid"),
    ("kid-10kb", lambda u: sign(good(), kid="k" * 10_000), "too_large"),
    ("kid-1kb", lambda u: sign(good(), kid="k" * 1000), "bad_kid"),
    ("kid-unknown", lambda u: sign(good(), ATTACKER, kid="k-unknown"), "unknown_key"),
    ("no-kid", lambda u: sign(good(), kid=None), "unknown_key"),
    ("expired", lambda u: sign(good(exp=now() - 60, iat=now() - 120)), "expired"),
    ("nbf-future", lambda u: sign(good(nbf=now() + 60)), "not_yet_valid"),
    ("iat-future", lambda u: sign(good(iat=now() + 60, exp=now() + 120)), "not_yet_valid"),
    ("exp-string", lambda u: sign(good(exp="tomorrow")), "malformed"),
    ("exp-1e300", lambda u: sign(good(exp=1e300)), "lifetime"),
    ("exp-far-future", lambda u: sign(good(exp=now() + 10 * 365 * 86400)), "lifetime"),
    (
        "exp-infinite",
        lambda u: raw_payload(json.dumps(good(exp=None)).replace("{", '{"exp": 1e400, ', 1)),
        "malformed",
    ),
    (
        "exp-huge-integer",
        lambda u: raw_payload(
            json.dumps(good(exp=None)).replace("{", '{"exp": 1' + "0" * 400 + ", ", 1)
        ),
        "claim_type",
    ),
    ("aud-mixed-types", lambda u: sign(good(aud=[AUDIENCE, 7])), "malformed"),
    ("sub-number", lambda u: sign(good(sub=42)), "missing_claim"),
    ("iss-object", lambda u: raw_payload(json.dumps({**good(), "iss": {"a": 1}})), "missing_claim"),
    ("missing-exp", lambda u: sign(good(exp=None)), "missing_claim"),
    ("missing-sub", lambda u: sign(good(sub=None)), "missing_claim"),
    ("missing-iat", lambda u: sign(good(iat=None)), "missing_claim"),
    ("missing-iss", lambda u: sign(good(iss=None)), "missing_claim"),
    ("empty-sub", lambda u: sign(good(sub="")), "missing_claim"),
    ("foreign-issuer", lambda u: sign(good(iss="https://evil.example.com/")), "unknown_issuer"),
    ("issuer-prefix", lambda u: sign(good(iss=OIDC_ISSUER + "x")), "unknown_issuer"),
    ("unexpected-aud", lambda u: sign(good(aud="another-api")), "audience"),
    ("missing-aud", lambda u: sign(good(aud=None)), "missing_claim"),
    ("typ-dpop", lambda u: sign(good(), headers={"typ": "dpop+jwt"}), "typ"),
    ("clerk-api-key", lambda u: "ak_" + "x" * 40, "machine_token"),
    ("clerk-m2m", lambda u: "m2m_" + "x" * 40, "machine_token"),
    ("clerk-oauth", lambda u: "oat_" + "x" * 40, "machine_token"),
    ("clerk-machine", lambda u: "mt_" + "x" * 40, "machine_token"),
    ("crit-unknown", lambda u: sign(good(), headers={"crit": ["urn:x"], "urn:x": 1}), "crit"),
    ("b64-false", lambda u: with_header(kid="k1", b64=False), "crit"),
    ("zip", lambda u: sign(good(), headers={"zip": "DEF"}), "header"),
    ("oversized-payload", lambda u: sign(good(pad="x" * 9000)), "too_large"),
    (
        "nested-json",
        lambda u: raw_payload('{"a":' + "[" * 2000 + "]" * 2000 + "}"),
        "malformed",
    ),
    (
        "nested-json-20",
        lambda u: raw_payload(json.dumps({**good(), "x": json.loads("[" * 20 + "]" * 20)})),
        "malformed",
    ),
    ("bad-characters", lambda u: sign(good()).replace(".", "+.", 1), "malformed"),
    ("padding", lambda u: sign(good()) + "==", "malformed"),
    (
        "duplicate-sub",
        lambda u: raw_payload(json.dumps(good()).replace("{", '{"sub": "admin", ', 1)),
        "duplicate_claim",
    ),
    ("payload-not-object", lambda u: raw_payload("[1, 2]"), "malformed"),
    ("alg-number", lambda u: with_header(kid="k1", alg=256), "malformed"),
    ("alg-list", lambda u: with_header(kid="k1", alg=["RS256"]), "malformed"),
    ("typ-number", lambda u: with_header(kid="k1", typ=1), "typ"),
    # A signature segment one character over a multiple of four is no base64 at all.
    ("signature-bad-length", lambda u: sign(good()) + "AAA", "malformed"),
    ("header-not-json", lambda u: "e30x." + sign(good()).split(".", 1)[1], "malformed"),
]


@pytest.fixture
def attacker() -> Any:
    with JWKSServer([jwk(ATTACKER, "k1")]) as server:
        yield server


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "build", "reason"), CASES, ids=[c[0] for c in CASES])
def test_attack_is_rejected(
    client: Client,
    oidc: JWKSServer,
    attacker: JWKSServer,
    name: str,
    build: Builder,
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Warm the cache with a genuine token so any further fetch would be visible.
    assert me(client, sign(good())).status_code == 200
    hits = oidc.hits
    token = build(attacker.url)
    before = AUTH_FAILURES.labels(reason=reason)._value.get()
    with caplog.at_level(logging.INFO, logger="hardening.audit"):
        response = me(client, token)
    assert response.status_code == 401, (name, response.content)
    assert f"({reason})" in response.json()["detail"]
    assert response["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert AUTH_FAILURES.labels(reason=reason)._value.get() == before + 1
    events = [r for r in caplog.records if getattr(r, "event", None) == "token.rejected"]
    assert len(events) == 1 and events[0].audit["reason"] == reason  # type: ignore[attr-defined]
    assert token[-20:] not in caplog.text  # no token material in the logs
    assert oidc.hits == hits and attacker.hits == 0  # no outbound request


def me(client: Client, token: str, scheme: str = "Bearer") -> Any:
    return client.get("/api/me", headers={"Authorization": f"{scheme} {token}"})


@pytest.mark.django_db
def test_leeway_boundary(client: Client, oidc: JWKSServer) -> None:
    from hardening.jwt import conf, verify

    assert conf.LEEWAY == verify.LEEWAY == 5
    now = int(time.time())
    assert me(client, sign(good(exp=now - 2, iat=now - 60))).status_code == 200
    assert me(client, sign(good(exp=now - 30, iat=now - 60))).status_code == 401
    assert me(client, sign(good(nbf=now + 2))).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer  "])
def test_malformed_bearer_header(client: Client, header: str) -> None:
    response = client.get("/api/me", headers={"Authorization": header})
    assert response.status_code == 401


@pytest.mark.django_db
def test_other_schemes_are_not_ours(client: Client) -> None:
    response = client.get("/api/me", headers={"Authorization": "Basic YTpi"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.django_db
def test_scheme_is_case_insensitive(client: Client, oidc: JWKSServer) -> None:
    assert me(client, sign(good()), scheme="bearer").status_code == 200
    assert me(client, sign(good()), scheme="BEARER").status_code == 200


@pytest.mark.django_db
def test_cross_tenant_kid(client: Client, settings: Any) -> None:
    """Two issuers publish the same kid; a key is only trusted for its own issuer."""
    with (
        JWKSServer([jwk(rsa_key("a"), "ins_1")]) as a,
        JWKSServer([jwk(rsa_key("b"), "ins_1")]) as b,
    ):
        settings.HARDENING_JWT_ISSUERS = [
            {"label": "a", "issuer": "https://a.example.com", "jwks_url": a.url},
            {"label": "b", "issuer": "https://b.example.com", "jwks_url": b.url},
        ]
        token_b = sign(claims("https://b.example.com"), rsa_key("b"), kid="ins_1")
        assert me(client, token_b).status_code == 200
        forged = sign(claims("https://a.example.com"), rsa_key("b"), kid="ins_1")
        response = me(client, forged)
        assert response.status_code == 401
        assert "(signature)" in response.json()["detail"]


@pytest.mark.django_db
def test_jwk_alg_must_match(client: Client, settings: Any) -> None:
    with JWKSServer([jwk(rsa_key(), "k1", alg="RS512")]) as server:
        settings.HARDENING_JWT_ISSUERS = [
            {
                "issuer": "https://c.example.com",
                "jwks_url": server.url,
                "algorithms": ["RS256", "RS512"],
            }
        ]
        assert me(client, sign(claims("https://c.example.com"), alg="RS512")).status_code == 200
        response = me(client, sign(claims("https://c.example.com"), alg="RS256"))
        assert "(algorithm)" in response.json()["detail"]


@pytest.mark.django_db
def test_unknown_kid_flood_at_the_endpoint(client: Client, oidc: JWKSServer) -> None:
    assert me(client, sign(good())).status_code == 200
    for index in range(50):
        assert me(client, sign(good(), ATTACKER, kid=f"flood-{index}")).status_code == 401
    assert oidc.hits == 1  # within the cooldown: not one extra fetch


@pytest.mark.django_db
def test_slow_jwks_endpoint_fails_fast(
    client: Client, oidc: JWKSServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hardening.jwt import keys

    monkeypatch.setattr(keys, "TIMEOUT", 0.3)
    oidc.delay = 3
    started = time.monotonic()
    response = me(client, sign(good()))
    assert response.status_code == 401
    assert "(jwks_unavailable)" in response.json()["detail"]
    assert time.monotonic() - started < 2


def test_aud_is_rejected_when_the_issuer_expects_none() -> None:
    """An issuer configured without an audience (Clerk's default) still refuses a token
    that names one: it was minted for another API."""
    import jwt as pyjwt

    from hardening.jwt.issuers import Issuer
    from hardening.jwt.jws import TokenRejected, parse
    from hardening.jwt.verify import verify_external
    from tests.jwt.helpers import public_pem

    key = rsa_key("no-audience")
    issuer = Issuer.from_dict(
        {"label": "plain", "issuer": "https://plain.example.com", "public_key": public_pem(key)}
    )
    assert issuer.audience == ()

    def verify(**changes: Any) -> Any:
        token = pyjwt.encode(claims("https://plain.example.com", **changes), key, "RS256")
        return verify_external(parse(token), issuer)

    assert verify()["sub"]  # accepted without aud
    for aud in ("another-api", ["another-api"], ["another-api", "x"]):
        with pytest.raises(TokenRejected) as rejected:
            verify(aud=aud)
        assert rejected.value.reason == "audience", aud


# -- the JWS layer's own refusals, below what an issuer's configuration lets through ---------


def test_an_algorithm_pyjwt_does_not_know_is_refused() -> None:
    from hardening.jwt.jws import TokenRejected, parse, verify_signature

    parsed = parse(with_header(kid="k1", alg="RS1024"))
    with pytest.raises(TokenRejected) as info:
        verify_signature(parsed, public_pem(rsa_key()), "oidc")
    assert (info.value.reason, info.value.kind) == ("algorithm", "oidc")


def test_a_key_of_the_wrong_type_fails_the_signature_and_does_not_raise() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    from hardening.jwt.jws import TokenRejected, parse, verify_signature

    parsed = parse(sign(good()))
    verify_signature(parsed, rsa_key().public_key(), "oidc")  # the right key verifies
    wrong = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(TokenRejected) as info:
        verify_signature(parsed, wrong, "oidc")
    assert info.value.reason == "signature"


def test_claims_from_another_issuer_are_refused() -> None:
    from hardening.jwt.jws import TokenRejected, validate_claims

    payload = good()
    rules: dict[str, Any] = {"audience": [AUDIENCE], "required": ["exp"], "leeway": 5}
    validate_claims(payload, kind="oidc", issuer=OIDC_ISSUER, **rules)
    with pytest.raises(TokenRejected) as info:
        validate_claims(payload, kind="oidc", issuer="https://other.example/", **rules)
    assert (info.value.reason, info.value.kind) == ("issuer", "oidc")


def test_the_lifetime_cap() -> None:
    from hardening.jwt.jws import TokenRejected, check_lifetime

    issued = now()
    check_lifetime({"exp": issued + 3600, "iat": issued}, 3600, 5)
    check_lifetime({"exp": issued + 3600}, 3600, 5)  # no iat: measured from now
    for payload, reason in [
        ({"iat": issued}, "missing_claim"),
        ({"exp": issued + 60, "iat": issued - 7200}, "lifetime"),  # issued for two hours
        ({"exp": issued + 3700, "iat": issued}, "lifetime"),
    ]:
        with pytest.raises(TokenRejected) as info:
            check_lifetime(payload, 3600, 5)
        assert info.value.reason == reason, payload
