"""Public ticket references: ``MDM-XXXX-XXXX``.

The eight characters come from Crockford's base-32 alphabet (no ``I``, ``L``, ``O``, ``U``,
so they cannot be confused with ``1``/``0`` or form words), drawn with :mod:`secrets`:
40 random bits, about 10^12 references, so they cannot be guessed.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

#: Characters of a reference.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: Fixed prefix.
PREFIX = "MDM"
#: Random characters in a reference (two groups of four).
RANDOM_LENGTH = 8
#: Canonical form.
REF_PATTERN = re.compile(rf"{PREFIX}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}")

#: Longest text :func:`normalize_ref` looks at (anything longer is not a reference).
_MAX_INPUT = 64
#: Separators users type between groups: spaces of all sorts, hyphens and dashes, dots, "_".
_SEPARATORS = re.compile(r"[\s\u00a0\u2000-\u200b\u202f\u205f\u3000\-\u2010-\u2015\u2212._]+")
_BODY = re.compile(rf"[{ALPHABET}]{{{RANDOM_LENGTH}}}")


def new_ref() -> str:
    """Draw a new random reference.

    Returns:
        A canonical ``MDM-XXXX-XXXX`` string (uniqueness is checked by the database).

    """
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return f"{PREFIX}-{body[:4]}-{body[4:]}"


def _ascii_digits(text: str) -> str:
    """Map Arabic-Indic and other decimal digits to ASCII ``0-9``."""
    return "".join(str(unicodedata.decimal(ch)) if ch.isdecimal() else ch for ch in text)


def normalize_ref(text: str | None) -> str | None:
    """Turn what a user typed into a canonical reference.

    Accepted: any case, with or without the ``MDM`` prefix, with or without dashes, spaces
    or dots between groups (``mdm-abcd-1234``, ``MDMABCD1234``, ``abcd 1234``), full-width
    letters and Arabic-Indic digits. Refused: characters outside the alphabet (including
    ``I``, ``L``, ``O``, ``U``: they are never generated, so guessing ``0`` for ``O`` could
    point at someone else's ticket), wrong length, anything else.

    Args:
        text: The user's text (may be None).

    Returns:
        ``MDM-XXXX-XXXX``, or None when ``text`` is not a well-formed reference.

    """
    if not text or not isinstance(text, str) or len(text) > _MAX_INPUT:
        return None
    compact = _SEPARATORS.sub("", _ascii_digits(unicodedata.normalize("NFKC", text)))
    if not compact.isascii():  # checked before upper(): "ß".upper() == "SS"
        return None
    compact = compact.upper()
    if len(compact) == len(PREFIX) + RANDOM_LENGTH and compact.startswith(PREFIX):
        compact = compact[len(PREFIX) :]
    if not _BODY.fullmatch(compact):
        return None
    return f"{PREFIX}-{compact[:4]}-{compact[4:]}"


def is_ref(text: str | None) -> bool:
    """Tell whether ``text`` is already a canonical reference.

    Args:
        text: Any text.

    Returns:
        True for ``MDM-XXXX-XXXX`` with allowed characters, in upper case.

    """
    return isinstance(text, str) and REF_PATTERN.fullmatch(text) is not None
