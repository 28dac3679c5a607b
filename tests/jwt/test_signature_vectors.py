"""Wycheproof-style signature vectors, generated here, through the verifier.

Wycheproof's JWS vectors (C2SP/wycheproof ``json_web_signature_test.json``) probe how a
verifier treats signatures that are almost right.  We do not vendor that file; these tests
build the same kinds of cases from fresh keys for every asymmetric family the verifier
allows (RS256, PS256, ES256, ES384, EdDSA) and check the verifier's answer:

* the genuine token is accepted (so a rejection below is about the change, not the setup);
* every modified signature is rejected with ``signature`` (bit flips at the start, middle and
  end, truncated, extended, prepended zero, all zeros, all ones, swapped halves, empty), as is
  a genuine signature moved onto a modified header or payload;
* ECDSA: ``r = s = 0`` (CVE-2022-21449, "psychic signatures"), ``r`` or ``s`` equal to the
  group order, and a DER-encoded signature where JWS requires the raw ``r || s`` form;
* RSA: the signature value 0, 1 and n − 1, and a value above the modulus;
* a signature valid for one family presented under another ``alg`` is refused.

No case may raise anything but :class:`TokenRejected` (a 500 at ``/api/me``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from hardening.jwt.issuers import Issuer
from hardening.jwt.jws import TokenRejected, parse
from hardening.jwt.verify import verify_external
from tests.jwt.helpers import b64, claims, public_pem

ISS = "https://vectors.example.com"
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _keys() -> dict[str, Any]:
    return {
        "RS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "PS256": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ES256": ec.generate_private_key(ec.SECP256R1()),
        "ES384": ec.generate_private_key(ec.SECP384R1()),
        "EdDSA": ed25519.Ed25519PrivateKey.generate(),
    }


KEYS = _keys()
ALGS = list(KEYS)


def issuer(alg: str, key: Any = None) -> Issuer:
    return Issuer.from_dict(
        {"label": "vectors", "issuer": ISS, "algorithms": [alg],
         "public_key": public_pem(key or KEYS[alg])}
    )  # fmt: skip


def token(alg: str) -> str:
    return jwt.encode(claims(ISS), KEYS[alg], algorithm=alg)


def with_signature(raw: str, signature: bytes) -> str:
    return raw.rsplit(".", 1)[0] + "." + b64(signature)


def signature_of(raw: str) -> bytes:
    part = raw.rsplit(".", 1)[1]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def reason(raw: str, alg: str, key: Any = None) -> str | None:
    """None when accepted, else the rejection reason; anything else fails the test."""
    try:
        verify_external(parse(raw), issuer(alg, key))
    except TokenRejected as exc:
        return exc.reason
    return None


def flip(position: Callable[[int], int]) -> Callable[[bytes], bytes]:
    def change(sig: bytes) -> bytes:
        data = bytearray(sig)
        data[position(len(data))] ^= 0x01
        return bytes(data)

    return change


MODIFICATIONS: dict[str, Callable[[bytes], bytes]] = {
    "flip-first-byte": flip(lambda n: 0),
    "flip-middle-byte": flip(lambda n: n // 2),
    "flip-last-byte": flip(lambda n: n - 1),
    "truncated-by-one": lambda sig: sig[:-1],
    "half-missing": lambda sig: sig[: len(sig) // 2],
    "extended-by-zero": lambda sig: sig + b"\x00",
    "prepended-zero": lambda sig: b"\x00" + sig,
    "all-zeros": lambda sig: bytes(len(sig)),
    "all-ones": lambda sig: b"\xff" * len(sig),
    "halves-swapped": lambda sig: sig[len(sig) // 2 :] + sig[: len(sig) // 2],
    "empty": lambda sig: b"",
}


@pytest.mark.parametrize("alg", ALGS)
def test_genuine_signature_is_accepted(alg: str) -> None:
    assert reason(token(alg), alg) is None


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("name", list(MODIFICATIONS))
def test_modified_signature_is_rejected(alg: str, name: str) -> None:
    raw = token(alg)
    forged = with_signature(raw, MODIFICATIONS[name](signature_of(raw)))
    assert forged != raw
    assert reason(forged, alg) in ("signature", "malformed")


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("part", ["header", "payload"])
def test_signature_moved_onto_modified_content_is_rejected(alg: str, part: str) -> None:
    raw = token(alg)
    header, payload, sig = raw.split(".")
    if part == "header":
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
        header = b64(json.dumps({**decoded, "typ": "JWT", "x": 1}).encode())
    else:
        payload = b64(json.dumps({**claims(ISS), "sub": "admin"}).encode())
    assert reason(f"{header}.{payload}.{sig}", alg) == "signature"


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(bytes(64), id="r=s=0 (CVE-2022-21449)"),
        pytest.param(P256_ORDER.to_bytes(32, "big") * 2, id="r=s=n"),
        pytest.param(bytes(31) + b"\x01" + P256_ORDER.to_bytes(32, "big"), id="r=1,s=n"),
        pytest.param(P256_ORDER.to_bytes(32, "big") + bytes(31) + b"\x01", id="r=n,s=1"),
    ],
)
def test_ecdsa_degenerate_signatures_are_rejected(signature: bytes) -> None:
    assert reason(with_signature(token("ES256"), signature), "ES256") == "signature"


def test_ecdsa_der_signature_is_rejected() -> None:
    raw = token("ES256")
    sig = signature_of(raw)
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    der = encode_dss_signature(r, s)
    assert reason(with_signature(raw, der), "ES256") == "signature"


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
@pytest.mark.parametrize("value", ["zero", "one", "n-1", "n", "above-n"])
def test_rsa_out_of_range_signatures_are_rejected(alg: str, value: str) -> None:
    n = KEYS[alg].public_key().public_numbers().n
    number = {"zero": 0, "one": 1, "n-1": n - 1, "n": n, "above-n": n + 1}[value]
    signature = number.to_bytes(256 if number < 2**2048 else 257, "big")
    assert reason(with_signature(token(alg), signature), alg) == "signature"


@pytest.mark.parametrize(
    ("signed_as", "presented_as"),
    [("RS256", "PS256"), ("PS256", "RS256"), ("ES256", "ES384"), ("ES384", "ES256")],
)
def test_signature_of_one_algorithm_under_another_is_rejected(
    signed_as: str, presented_as: str
) -> None:
    """The header says ``presented_as`` and the key is of that family; the signature is a
    genuine ``signed_as`` signature of the same signing input by the same key."""
    key = KEYS[signed_as]
    header = b64(json.dumps({"alg": presented_as, "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims(ISS)).encode())
    signing_input = f"{header}.{payload}".encode()
    algorithm = jwt.get_algorithm_by_name(signed_as)
    signature = algorithm.sign(signing_input, algorithm.prepare_key(key))
    forged = f"{header}.{payload}.{b64(signature)}"
    assert reason(forged, presented_as, key) in ("signature", "algorithm")
