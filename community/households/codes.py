"""Card and membership secrets: the QR token (≥128 random bits), human-typable codes, and
the one-time join codes and invitation tokens (stored as hashes only). Pure, no DB."""
from __future__ import annotations

import hashlib
import secrets

# No look-alikes (0/O, 1/I/L). 31 symbols x 8 ≈ 39.6 bits; the token carries the security.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SHORT_CODE_LENGTH = 8
# A join code is typed from a slip: 12 symbols ≈ 59 bits, so its stored hash cannot be
# reversed by trying every code, and guessing one online is hopeless under the throttle.
JOIN_CODE_LENGTH = 12


def new_token() -> str:
    """A URL-safe random token of 144 bits (24 characters)."""
    return secrets.token_urlsafe(18)


def new_code(length: int = SHORT_CODE_LENGTH) -> str:
    """A random code from the look-alike-free alphabet."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


_SEPARATORS = str.maketrans("", "", " -\t")


def normalize_code(text: str) -> str:
    """Uppercase and drop the spaces and dashes people type between groups."""
    return (text or "").upper().translate(_SEPARATORS)


def is_short_code(text: str) -> bool:
    """True for a well-formed short code (after normalising)."""
    return len(text) == SHORT_CODE_LENGTH and all(ch in ALPHABET for ch in text)


def format_code(code: str) -> str:
    """Group for reading aloud and printing: 'ABCD-EFGH'."""
    return f"{code[:4]}-{code[4:]}" if len(code) == SHORT_CODE_LENGTH else code


def new_join_code() -> str:
    """A fresh one-time join code (12 look-alike-free symbols)."""
    return new_code(JOIN_CODE_LENGTH)


def format_join_code(code: str) -> str:
    """Group a join code for printing and reading aloud: 'ABCD-EFGH-JKMN'."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def is_join_code(text: str) -> bool:
    """True for a well-formed join code (after normalising)."""
    return len(text) == JOIN_CODE_LENGTH and all(ch in ALPHABET for ch in text)


def digest(secret: str) -> str:
    """The SHA-256 (hex) a join code or invitation token is stored and looked up by."""
    return hashlib.sha256(secret.encode()).hexdigest()
