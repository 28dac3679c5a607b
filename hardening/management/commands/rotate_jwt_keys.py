"""``manage.py rotate_jwt_keys [--activate-in SECONDS]``: print the next value of
``HARDENING_JWT_SIGNING_KEY`` (JSON): a new key pair for ``HARDENING_JWT_ALGORITHM`` that starts
signing after ``--activate-in`` seconds (default one day, so every verifier's cached JWKS
holds it first), the current keys kept, the retired ones dropped.  It writes nothing:
store the output where the setting comes from (a secret manager, ``JWT_SIGNING_KEYS``).
The output contains private keys."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.core.management.base import BaseCommand, CommandError, CommandParser

from hardening import clock
from hardening.jwt import ownkeys, signingkey
from hardening.jwt.conf import conf


def new_private_key(algorithm: str) -> str:
    key: Any
    if algorithm[:2] in ("RS", "PS"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    elif algorithm == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    elif algorithm == "ES384":
        key = ec.generate_private_key(ec.SECP384R1())
    elif algorithm == "ES512":
        key = ec.generate_private_key(ec.SECP521R1())
    elif algorithm == "EdDSA":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        raise CommandError(f"{algorithm} keys are not rotated here: use an RS*/ES*/EdDSA key.")
    pem: bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode()


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=timezone.utc).isoformat().replace("+00:00", "Z")


class Command(BaseCommand):
    help = "Print HARDENING_JWT_SIGNING_KEY with a new key that signs after --activate-in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--activate-in", type=float, default=86400.0, metavar="SECONDS")

    def handle(self, *args: Any, **options: Any) -> None:
        now = clock.now()
        keys = ownkeys.raw_keys()
        gone = ownkeys.retired(keys, now)
        private = new_private_key(conf.HARDENING_JWT_ALGORITHM)
        entries = [
            {"kid": k.kid, "key": k.key, "active_from": _iso(k.active_from)}
            for k in keys
            if k.kid not in gone
        ]
        activate = now + max(0.0, options["activate_in"])
        kid = signingkey.thumbprint(signingkey.public_pem(private))
        entries.append({"kid": kid, "key": private, "active_from": _iso(activate)})
        self.stdout.write(json.dumps(entries, indent=2))
        self.stderr.write(
            f"New key {kid} signs from {_iso(activate)}; dropped {len(gone)} retired key(s)."
        )
