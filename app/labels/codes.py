"""Label codes: short, readable aloud, typo-proof, and meaningless on their own.

Ten symbols from a 31-letter alphabet (Crockford's base-32 without Z, so the
alphabet size is prime), shown as two groups of five: ``K7QM4-TZX9P``.  The last
symbol is a check: a weighted sum modulo 31 with weights 1..10.  Because 31 is
prime and every weight is distinct and non-zero modulo 31, any single wrong
symbol and any swap of two neighbours changes the sum, so the check catches
them before a lookup is ever made.
"""
from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXY"
assert len(ALPHABET) == 31
BODY_LENGTH = 9
CODE_LENGTH = BODY_LENGTH + 1
_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
# Crockford's forgiving reading: letters people type for digits.
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.]+")


def check_symbol(body: str) -> str:
    total = sum((weight + 1) * _VALUE[symbol] for weight, symbol in enumerate(body))
    # The check symbol has weight CODE_LENGTH; choose it so the whole sum is 0 mod 31.
    inverse = pow(CODE_LENGTH, -1, 31)
    return ALPHABET[(-total * inverse) % 31]


def new_label_code() -> str:
    """A fresh random label code, without its display grouping."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + check_symbol(body)


def normalise_label_code(text: str) -> str:
    """Upper-case, drop spaces and dashes, read O as 0 and I/L as 1."""
    return _SEPARATORS.sub("", text).upper().translate(_READ_AS)


def is_valid_label_code(code: str) -> bool:
    """True when ``code`` (normalised) has the right length, alphabet and check symbol."""
    if len(code) != CODE_LENGTH or any(symbol not in _VALUE for symbol in code):
        return False
    return sum((weight + 1) * _VALUE[symbol] for weight, symbol in enumerate(code)) % 31 == 0


def format_label_code(code: str) -> str:
    """``K7QM4TZX9P`` → ``K7QM4-TZX9P`` for people to read."""
    return f"{code[:5]}-{code[5:]}"
