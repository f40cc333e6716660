"""Card secrets: the QR token (≥128 random bits) and human-typable codes. Pure, no DB."""
from __future__ import annotations

import secrets

# No look-alikes (0/O, 1/I/L). 31 symbols x 8 ≈ 39.6 bits; the token carries the security.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SHORT_CODE_LENGTH = 8
LINK_CODE_LENGTH = 6


def new_token() -> str:
    """A URL-safe random token of 144 bits (24 characters)."""
    return secrets.token_urlsafe(18)


def new_code(length: int = SHORT_CODE_LENGTH) -> str:
    """A random code from the look-alike-free alphabet."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize_code(text: str) -> str:
    """Uppercase and drop the spaces and dashes people type between groups."""
    return "".join(ch for ch in (text or "").upper() if ch not in " -\t")


def is_short_code(text: str) -> bool:
    """True for a well-formed short code (after normalising)."""
    return len(text) == SHORT_CODE_LENGTH and all(ch in ALPHABET for ch in text)


def format_code(code: str) -> str:
    """Group for reading aloud and printing: 'ABCD-EFGH'."""
    return f"{code[:4]}-{code[4:]}" if len(code) == SHORT_CODE_LENGTH else code
