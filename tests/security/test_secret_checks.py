"""Issue 12 item 3: weak and published secrets are production Errors (development
Warnings), judged by estimated entropy and known-value lists, not length alone."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from example_project import settings as example
from hardening.jwt.tokens import issue_token_pair
from tests.helpers.checks import JWT_KEY, STRONG_KEY, check_error_codes, production
from tests.jwt.helpers import private_pem, rsa_key

SECRET_PATTERN = "abcdefghijk" * 6  # 66 characters, 11 distinct: passed E002/E003
TOKEN = "Tq3vX9pLr2mZ8sK4wN7bY1cF6hJ0dG5e"  # 32 random characters
FERNET = "q3mWqI6eFTbqvwyJXO0m2bJ2k1UYb0JRLdS3GZcTqXs="  # 32 random bytes, as Fernet makes
WEAK_FERNET = [
    base64.urlsafe_b64encode(raw).decode()
    for raw in (bytes(32), b"a" * 32, b"abcd" * 8, bytes(range(32)))
]

CASES = [
    # HS256 JWT keys of no entropy
    ({"HARDENING_JWT_SIGNING_KEY": "a" * 48}, "hardening.E024"),
    ({"HARDENING_JWT_SIGNING_KEY": "changeme" * 6}, "hardening.E024"),
    # near-copies of SECRET_KEY
    ({"HARDENING_JWT_SIGNING_KEY": STRONG_KEY + "x"}, "hardening.E042"),
    ({"HARDENING_JWT_SIGNING_KEY": STRONG_KEY.upper()}, "hardening.E042"),
    ({"HARDENING_JWT_SIGNING_KEY": STRONG_KEY[:40]}, "hardening.E042"),
    ({"HARDENING_JWT_SIGNING_KEY": "z" + STRONG_KEY[1:]}, "hardening.E042"),
    # a SECRET_KEY made of a short repeated pattern
    ({"SECRET_KEY": SECRET_PATTERN}, "hardening.E023"),
    ({"SECRET_KEY_FALLBACKS": [SECRET_PATTERN]}, "hardening.E006"),
    # development values published in this repository
    ({"SECRET_KEY": example.DEV_JWT_SIGNING_KEY}, "hardening.E005"),
    ({"HARDENING_JWT_SIGNING_KEY": example.DEV_JWT_SIGNING_KEY}, "hardening.E025"),
    ({"HARDENING_JWT_SIGNING_KEY": example.DEV_SECRET_KEY}, "hardening.E025"),
    ({"HARDENING_FIELD_ENCRYPTION_KEYS": [example.DEV_FIELD_ENCRYPTION_KEY]}, "hardening.E026"),
    # docs/quickstart.md's development defaults, copied into production
    (
        {"HARDENING_JWT_SIGNING_KEY": "development-only-jwt-signing-key-0123456789"},
        "hardening.E025",
    ),
    (
        {"HARDENING_FIELD_ENCRYPTION_KEYS": ["ZGV2ZWxvcG1lbnQtb25seS1maWVsZC1rZXktMDEyMzQ="]},
        "hardening.E026",
    ),
    # field-encryption keys that decode to 32 bytes with no entropy (base64 of zero bytes,
    # of "a" x 32, of a short pattern or a sequence): valid Fernet keys, guessable
    ({"HARDENING_FIELD_ENCRYPTION_KEYS": [WEAK_FERNET[0]]}, "hardening.E051"),
    ({"HARDENING_FIELD_ENCRYPTION_KEYS": [FERNET, WEAK_FERNET[1]]}, "hardening.E051"),
    ({"HARDENING_FIELD_ENCRYPTION_KEYS": [WEAK_FERNET[2]]}, "hardening.E051"),
    ({"HARDENING_FIELD_ENCRYPTION_KEYS": [WEAK_FERNET[3]]}, "hardening.E051"),
    # HS256 with a PEM key
    ({"HARDENING_JWT_SIGNING_KEY": private_pem(rsa_key())}, "hardening.E027"),
    # hosts and origins over a public suffix
    ({"ALLOWED_HOSTS": [".com"]}, "hardening.E028"),
    ({"ALLOWED_HOSTS": ["api.example.com", ".co.uk"]}, "hardening.E028"),
    ({"ALLOWED_HOSTS": [".github.io"]}, "hardening.E028"),
    ({"CSRF_TRUSTED_ORIGINS": ["http://app.example.com"]}, "hardening.E029"),
    ({"CSRF_TRUSTED_ORIGINS": ["https://*.com"]}, "hardening.E029"),
    ({"CSRF_TRUSTED_ORIGINS": ["https://*.herokuapp.com"]}, "hardening.E029"),
    # operator tokens
    ({"HARDENING_HEALTH_TOKEN": "é" * 15 + "ab"}, "hardening.E504"),  # 17 characters, 32 bytes
    ({"HARDENING_METRICS_TOKEN": "ab" * 20}, "hardening.E050"),
    ({"HARDENING_HEALTH_TOKEN": "a" * 32}, "hardening.E050"),
    ({"HARDENING_HEALTH_TOKEN": JWT_KEY}, "hardening.E049"),
    ({"HARDENING_METRICS_TOKEN": STRONG_KEY}, "hardening.E049"),
    ({"HARDENING_HEALTH_TOKEN": TOKEN, "HARDENING_METRICS_TOKEN": TOKEN}, "hardening.E049"),
    ({"HARDENING_METRICS_TOKEN": TOKEN, "SECRET_KEY_FALLBACKS": [TOKEN]}, "hardening.E049"),
    (
        {
            "HARDENING_HEALTH_TOKEN": TOKEN,
            "HARDENING_JWT_ISSUERS": [
                {"preset": "clerk", "issuer": "https://clerk.example.com", "secret_key": TOKEN}
            ],
        },
        "hardening.E049",
    ),
]


@pytest.mark.parametrize(("changes", "code"), CASES)
def test_each_weak_secret_is_a_production_error(changes: dict[str, object], code: str) -> None:
    with production(**changes):
        codes = check_error_codes()
    assert codes.get(code) == "ERROR", codes


@pytest.mark.parametrize(("changes", "code"), CASES)
def test_each_weak_secret_is_a_development_warning(changes: dict[str, object], code: str) -> None:
    with production(HARDENING_ENVIRONMENT="development", **changes):
        codes = check_error_codes()
    assert codes.get(code) == "WARNING", codes


@pytest.mark.parametrize(
    "changes",
    [
        {"ALLOWED_HOSTS": [".example.com", "api.example.co.uk", "localhost", "127.0.0.1"]},
        {"CSRF_TRUSTED_ORIGINS": ["https://app.example.com", "https://*.example.com"]},
        {"HARDENING_HEALTH_TOKEN": TOKEN, "HARDENING_METRICS_TOKEN": TOKEN[::-1]},
        {"HARDENING_FIELD_ENCRYPTION_KEYS": [FERNET]},
    ],
)
def test_good_values_pass(changes: dict[str, object]) -> None:
    with production(**changes):
        codes = check_error_codes()
    assert [c for c, level in codes.items() if level == "ERROR"] == []


def test_entropy_estimate_sees_patterns_not_length() -> None:
    import secrets

    from django.core.management.utils import get_random_secret_key

    from hardening.deploy.strength import estimated_bits

    assert estimated_bits("a" * 48) < 32
    assert estimated_bits("changeme" * 6) < 40
    assert estimated_bits(SECRET_PATTERN) < 64
    assert estimated_bits("0123456789" * 5) < 64
    assert estimated_bits(get_random_secret_key()) > 200
    assert estimated_bits(secrets.token_urlsafe(32)) > 160
    assert estimated_bits(secrets.token_hex(16)) >= 128


def test_generated_fernet_keys_are_never_weak_and_patterns_always_are() -> None:
    """The check reads the 32 decoded bytes: random keys score far above the bar (over
    50 000 samples the lowest estimate was 176 bits), patterns far below it."""
    from cryptography.fernet import Fernet

    from hardening.deploy.keys import weak_fernet_key

    assert not any(weak_fernet_key(Fernet.generate_key().decode()) for _ in range(2000))
    assert all(weak_fernet_key(key) for key in WEAK_FERNET)
    half = base64.urlsafe_b64encode(bytes.fromhex("8f3a91c2d45e67b0a1f2c3d4e5f60718") * 2)
    assert weak_fernet_key(half.decode())  # 16 random bytes, twice
    passphrase = base64.urlsafe_b64encode(b"my-super-secret-password-1234567")
    assert weak_fernet_key(passphrase.decode())


def test_every_published_development_value_is_known() -> None:
    from hardening.deploy.strength import is_published

    for name in dir(example):
        if name.startswith("DEV_"):
            assert is_published(getattr(example, name)), name


@pytest.mark.django_db
def test_hs256_with_a_pem_key_answers_401_not_500(client: Client, settings: object) -> None:
    settings.HARDENING_RATELIMIT_ENABLED = False  # type: ignore[attr-defined]
    user = get_user_model().objects.create_user("pem-user", password="unused")
    access = issue_token_pair(user, amr=["pwd"])["access"]
    settings.HARDENING_JWT_SIGNING_KEY = private_pem(rsa_key())  # type: ignore[attr-defined]
    client.raise_request_exception = False
    response = client.get("/api/me", headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 401, response.content
    assert "request_id" in response.json()


DOC_SECRET = re.compile(
    r"(?:SECRET_KEY|SIGNING_KEY|ENCRYPTION_KEYS?|_TOKEN)\b\W{0,4}[=:]\s*\[?[\"']([^\"'<>.]{16,})[\"']"
)
#: Any quoted value on a line about a secret, a key or a token (``default="..."`` too).
DOC_QUOTED = re.compile(r"[\"']([A-Za-z0-9_+/=-]{20,})[\"']")
SECRET_LINE = re.compile(r"(?i)secret|key|token|password")


def _doc_values(text: str) -> list[str]:
    values = [m.group(1) for m in DOC_SECRET.finditer(text)]
    for line in text.splitlines():
        if SECRET_LINE.search(line):
            values += [
                v
                for v in DOC_QUOTED.findall(line)
                if not re.fullmatch(r"[A-Z0-9_]+|[a-z0-9_]+", v)  # names, not values
            ]
    return values


def test_secrets_written_in_the_docs_are_known_published_values() -> None:
    from hardening.deploy.strength import is_published

    root = Path(__file__).resolve().parents[2]
    pages = [*(root / "docs").glob("*.md"), root / "README.md"]
    found = [value for page in pages for value in _doc_values(page.read_text())]
    assert [value for value in found if not is_published(value)] == []


def test_public_suffix_fallback_without_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from hardening.deploy import hosts

    assert hosts.is_public_suffix("com") and hosts.is_public_suffix("github.io")
    monkeypatch.setattr(hosts, "_psl", lambda: None)
    assert hosts.is_public_suffix("com") and hosts.is_public_suffix(".co.uk")
    assert not hosts.is_public_suffix("example.com")
    assert not hosts.is_public_suffix("localhost") and not hosts.is_public_suffix("[::1]")


@pytest.mark.server
def test_manage_py_check_refuses_the_issue_values_in_production() -> None:
    """The attack as reported: ``DJANGO_ENV=production manage.py check`` with weak values."""
    import sys

    from tests.helpers.checks import MANAGE, PRODUCTION_SECRETS
    from tests.servers import run_until_exit

    cases = {
        "JWT_SIGNING_KEY": ("changeme" * 6, "E024"),
        "ALLOWED_HOSTS": (".com", "E028"),
        "CSRF_TRUSTED_ORIGINS": ("http://app.example.com", "E029"),
        "FIELD_ENCRYPTION_KEYS": (example.DEV_FIELD_ENCRYPTION_KEY, "E026"),
        "METRICS_TOKEN": (STRONG_KEY, "E049"),
    }
    env = {**PRODUCTION_SECRETS, **{name: value for name, (value, _) in cases.items()}}
    result = run_until_exit([sys.executable, *MANAGE], env=env)
    assert result.returncode != 0
    for _, code in cases.values():
        assert f"hardening.{code}" in result.stderr, (code, result.stderr[-3000:])
    assert STRONG_KEY not in result.stderr and "changeme" not in result.stderr  # no secrets


@pytest.mark.django_db
def test_hs256_with_a_pem_key_never_answers_500_when_issuing(
    client: Client, settings: object
) -> None:
    settings.HARDENING_RATELIMIT_ENABLED = False  # type: ignore[attr-defined]
    settings.HARDENING_MFA_REQUIRED = "off"  # type: ignore[attr-defined]
    get_user_model().objects.create_user("pem-login", password="pem-login-password-1")
    settings.HARDENING_JWT_SIGNING_KEY = private_pem(rsa_key())  # type: ignore[attr-defined]
    client.raise_request_exception = False
    response = client.post(
        "/api/auth/token",
        {"username": "pem-login", "password": "pem-login-password-1"},
        content_type="application/json",
    )
    assert response.status_code == 503, response.content
    assert response.json()["error"] == "server_misconfigured"


def test_ipv6_literals_in_allowed_hosts_are_not_public_suffixes() -> None:
    """'[::1]' (the example's development hosts) was cut at its first ':' to '[' and
    reported as a public suffix (hardening.E028)."""
    hosts = ["api.example.com", "[::1]", "[2001:db8::1]", "[::1]:8000", "127.0.0.1:8000"]
    with production(ALLOWED_HOSTS=hosts):
        codes = check_error_codes()
    assert "hardening.E028" not in codes, codes
