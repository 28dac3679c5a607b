"""Recovery (lookup) codes: 10 by default, 120 bits each, stored as SHA-256 hashes.

A code is 24 characters of a 32-letter alphabet (5 bits each) shown in groups of four,
``ABCD-EFGH-JKLM-NPQR-STUV-WXYZ``.  At 120 bits a plain hash is enough (ASVS 5.0 6.5.2:
>= 112 bits); a salted slow hash would only make every login attempt slower.  Using a
code is one conditional UPDATE, so a code can be spent once even under concurrency.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from hardening.mfa.models import RecoveryCode

#: Codes in a new set.
RECOVERY_CODES = 10
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1
LENGTH = 24


def normalize(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def looks_like_recovery_code(code: str) -> bool:
    value = normalize(code)
    return len(value) == LENGTH and all(ch in ALPHABET for ch in value)


def _hash(normalized: str) -> str:
    return hashlib.sha256(normalized.encode("ascii")).hexdigest()


def _new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def generate(user: Any) -> list[str]:
    """Replace the user's codes with a new set and return it (show it once, then forget)."""
    codes = [_new_code() for _ in range(RECOVERY_CODES)]
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(
            RecoveryCode(user=user, code_hash=_hash(normalize(code))) for code in codes
        )
    return codes


def use(user: Any, code: str) -> bool:
    """Spend ``code`` if it is one of the user's unused codes (atomic, single use)."""
    if not looks_like_recovery_code(code):
        return False
    spent = RecoveryCode.objects.filter(
        user=user, code_hash=_hash(normalize(code)), used_at__isnull=True
    ).update(used_at=timezone.now())
    return bool(spent == 1)


def remaining(user: Any) -> int:
    return int(RecoveryCode.objects.filter(user=user, used_at__isnull=True).count())
