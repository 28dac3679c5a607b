"""RFC 7515 Appendix A examples through the verifier.

The vectors are checked to be genuine first (PyJWT verifies them with the RFC's keys), then
run through hardening: structure accepted, signature accepted, and rejected for the reason a
2011 token without ``iat``/``sub`` from issuer ``joe`` must be rejected for.
"""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from jwt.algorithms import RSAAlgorithm

from hardening.jwt.issuers import Issuer
from hardening.jwt.jws import TokenRejected, parse
from hardening.jwt.verify import verify_external
from tests.jwt.helpers import public_pem

PAYLOAD = (
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
)
A1_HS256 = (
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
    + PAYLOAD
    + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)
A1_KEY = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
A2_RS256 = (
    "eyJhbGciOiJSUzI1NiJ9."
    + PAYLOAD
    + ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2"
    "Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQB"
    "MHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI"
    "2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"
)
A2_JWK = {
    "kty": "RSA",
    "e": "AQAB",
    "n": "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1P"
    "t0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS"
    "5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7"
    "aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
}
A5_UNSECURED = "eyJhbGciOiJub25lIn0." + PAYLOAD + "."


def a2_key() -> Any:
    return RSAAlgorithm.from_jwk(json.dumps(A2_JWK))


def joe(**changes: Any) -> Issuer:
    values: dict[str, Any] = {
        "label": "joe",
        "issuer": "joe",
        "public_key": public_pem_of(a2_key()),
        "required_claims": ["exp", "iss"],
        **changes,
    }
    return Issuer.from_dict(values)


def public_pem_of(key: Any) -> str:
    class Wrapper:
        def public_key(self) -> Any:
            return key

    return public_pem(Wrapper())


def test_vectors_are_genuine() -> None:
    key = jwt.utils.base64url_decode(A1_KEY)
    options: Any = {"verify_exp": False}
    assert jwt.decode(A1_HS256, key, algorithms=["HS256"], options=options)["iss"] == "joe"
    assert jwt.decode(A2_RS256, a2_key(), algorithms=["RS256"], options=options)["iss"] == "joe"


def test_a2_signature_accepted_then_expired() -> None:
    with pytest.raises(TokenRejected) as info:
        verify_external(parse(A2_RS256), joe())
    assert info.value.reason == "expired"  # the signature verified; exp is 2011


def test_a2_tampered_signature() -> None:
    head, payload, signature = A2_RS256.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    with pytest.raises(TokenRejected) as info:
        verify_external(parse(f"{head}.{payload}.{flipped}"), joe())
    assert info.value.reason == "signature"


def test_a2_requires_sub_and_iat_by_default() -> None:
    issuer = Issuer.from_dict({"issuer": "joe", "public_key": public_pem_of(a2_key())})
    with pytest.raises(TokenRejected) as info:
        verify_external(parse(A2_RS256), issuer)
    assert info.value.reason == "missing_claim"


def test_a1_hs256_never_accepted_from_another_issuer() -> None:
    issuer = joe(algorithms=["HS256"])
    with pytest.raises(TokenRejected) as info:
        verify_external(parse(A1_HS256), issuer)
    assert info.value.reason == "algorithm"


def test_a5_unsecured_refused() -> None:
    with pytest.raises(TokenRejected) as info:
        parse(A5_UNSECURED)
    assert info.value.reason == "alg_none"
