"""How guessable a secret is: an entropy estimate, published values and near-copies.

:func:`estimated_bits` is a small pattern-aware estimate in the spirit of zxcvbn and of
LZ77 compression: the value is read left to right and each piece costs

* a dictionary word (``changeme``, ``secret``, ``django``…): about 7 bits;
* a repeat of earlier text (``aaaa``, ``abcabc``, overlapping allowed): a few bits for its
  offset and length;
* a step of a sequence (``abcd``, ``0123``, ``9876``): 1 bit;
* any other character: log2 of the alphabet it could come from, i.e. the character classes
  present (lower, upper, digits, symbols), at most twice the distinct characters used.

Why not zxcvbn: it is built for human passwords (English word lists, keyboard walks, years),
its Python port truncates input at 72 characters, and it is slow on long inputs; a random
50-character key needs none of that. This estimate is never above the length times the
alphabet's bits, and it is cheap (bounded to :data:`MAX_CHARS`).
"""

from __future__ import annotations

import difflib
import math
import string

#: Bits a generated secret must reach (a random 128-bit value passes, ``a`` x 48 does not).
MIN_SECRET_BITS = 128
#: Only this many characters are estimated (512 random characters are far above the bar).
MAX_CHARS = 512

#: Words that show up in hand-made secrets; matched case-insensitively, longest first.
WORDS = tuple(
    sorted(
        {
            "admin",
            "changeme",
            "change",
            "secret",
            "password",
            "passwd",
            "django",
            "insecure",
            "example",
            "development",
            "develop",
            "production",
            "staging",
            "testing",
            "test",
            "default",
            "token",
            "signing",
            "jwt",
            "key",
            "private",
            "public",
            "qwerty",
            "letmein",
            "welcome",
            "hardening",
            "project",
            "replace",
            "please",
            "super",
            "your",
            "here",
            "dummy",
            "sample",
            "local",
            "health",
            "metrics",
            "monitor",
        },
        key=lambda word: (-len(word), word),
    )
)
_WORD_BITS = math.log2(len(WORDS)) + 1  # which word, and its capitalisation
_SYMBOLS = set(string.punctuation)

#: Values published in this repository (the example project's ``DEV_*`` constants and the
#: docs): anyone can read them, so none may protect a production deployment.
PUBLISHED_SECRETS = frozenset(
    {
        "django-insecure-example-project-development-key-0123456789abcdefghij",
        "example-project-development-jwt-key-do-not-use-in-production",
        "ZXhhbXBsZS1wcm9qZWN0LWRldmVsb3BtZW50LWtleSE=",
        "hardening-development-only-key-never-use-in-production-0123456789",
        # docs/quickstart.md's development defaults
        "development-only-jwt-signing-key-0123456789",
        "ZGV2ZWxvcG1lbnQtb25seS1maWVsZC1rZXktMDEyMzQ=",
    }
)


def is_published(value: str) -> bool:
    """Is ``value`` one of :data:`PUBLISHED_SECRETS` (surrounding blanks ignored)?"""
    return value.strip() in PUBLISHED_SECRETS


def is_pem(value: str) -> bool:
    """Does ``value`` look like a PEM key or certificate (or an OpenSSH public key)?"""
    stripped = value.strip()
    return "-----BEGIN" in stripped or stripped.startswith(("ssh-rsa ", "ssh-ed25519 "))


def _alphabet_bits(value: str) -> float:
    classes = 0
    if any(c in string.ascii_lowercase for c in value):
        classes += 26
    if any(c in string.ascii_uppercase for c in value):
        classes += 26
    if any(c in string.digits for c in value):
        classes += 10
    if any(c in _SYMBOLS for c in value):
        classes += len(_SYMBOLS)
    if any(not c.isascii() for c in value):
        classes += 100
    return math.log2(max(2, min(classes or 2, 2 * len(set(value)))))


def _repeat_length(value: str, i: int) -> int:
    """Length of the longest earlier copy of the text at ``i`` (overlap allowed), or 0."""
    best = 0
    seed = value[i : i + 3]
    if len(seed) < 3:
        return 0
    start = value.find(seed, 0, i + 2)
    while 0 <= start < i:
        length = 3
        while i + length < len(value) and value[start + length] == value[i + length]:
            length += 1
        best = max(best, length)
        start = value.find(seed, start + 1, i + 2)
    return best


def estimated_bits(value: str) -> float:
    """A pattern-aware estimate of the entropy of ``value`` in bits (see the module doc)."""
    value = value[:MAX_CHARS]
    lowered = value.lower()
    per_char = _alphabet_bits(value)
    bits = 0.0
    i = 0
    while i < len(value):
        length = _repeat_length(value, i)
        if length:
            bits += math.log2(i + 1) + math.log2(length)
            i += length
            continue
        word = next((w for w in WORDS if lowered.startswith(w, i)), None)
        if word is not None:
            bits += _WORD_BITS
            i += len(word)
            continue
        if i >= 2:
            step = ord(value[i]) - ord(value[i - 1])
            if step in (-1, 1) and step == ord(value[i - 1]) - ord(value[i - 2]):
                bits += 1
                i += 1
                continue
        bits += per_char
        i += 1
    return bits


def related(secret: str, other: str) -> bool:
    """Is ``secret`` a near-copy of ``other``: equal ignoring case, one containing the other
    (a prefix, a suffix, one character added), or at least 80 % similar?"""
    if not secret or not other:
        return False
    a, b = secret.strip().lower(), other.strip().lower()
    shorter, longer = sorted((a, b), key=len)
    if a == b or (len(shorter) >= 8 and shorter in longer):
        return True
    matcher = difflib.SequenceMatcher(None, a[:MAX_CHARS], b[:MAX_CHARS], autojunk=False)
    return matcher.ratio() >= 0.8
