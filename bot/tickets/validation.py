"""Checking and cleaning what users give us for a ticket.

Every function returns the cleaned value or raises :class:`~bot.tickets.errors.InvalidInput`
with a machine-readable ``field`` and ``reason``, so forms can re-ask the right question in
the user's language. Text is treated as plain text and stored verbatim (after trimming and
removing control characters): HTML, Markdown or SQL in it is never interpreted here, and
must be escaped by whatever displays it.
"""

from __future__ import annotations

import re
from typing import Iterable

from bot.settings import LANGUAGES
from bot.storage.models import (
    CATEGORIES,
    CONTACT_KINDS,
    CONTACT_MAX,
    DESCRIPTION_MAX,
    KINDS,
    SERVICE_MAX,
    STATUSES,
)
from bot.tickets.errors import (
    INVALID,
    NO_WORDS,
    NOT_ALLOWED,
    REQUIRED,
    TOO_LONG,
    TOO_SHORT,
    UNEXPECTED,
    InvalidInput,
)
from bot.tickets.pseudonym import is_user_key

#: Words a description needs at least.
DESCRIPTION_MIN_WORDS = 3

# C0/C1 control characters except tab and newline; NUL cannot even be stored by PostgreSQL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# A word is a whitespace-separated token with at least one letter or digit (any script).
_WORD = re.compile(r"[^\W_]")
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})"
)
_PHONE_CHARS = re.compile(r"(?:\+|00)[0-9][0-9 \-]*")
_CHANNEL = re.compile(r"[A-Za-z0-9_.\-]{1,32}")


def clean_text(text: object) -> str:
    """Normalise line ends, drop control characters and trim.

    Args:
        text: Any value; non-strings give an empty string.

    Returns:
        The cleaned text (possibly empty).

    """
    if not isinstance(text, str):
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def count_words(text: str) -> int:
    """Count the words of a text: tokens holding at least one letter or digit.

    Emoji, punctuation and symbols alone do not count; Arabic, Latin and digits do.

    Args:
        text: Any text.

    Returns:
        The number of words.

    """
    return sum(1 for token in text.split() if _WORD.search(token))


def validate_text(
    text: object,
    field: str = "description",
    *,
    min_words: int = DESCRIPTION_MIN_WORDS,
    max_length: int = DESCRIPTION_MAX,
) -> str:
    """Check a free text (description, additional message, note).

    Texts over ``max_length`` characters are **rejected** (reason ``too_long``, with the
    limit), never silently truncated: the user must know what we keep. Exactly
    ``max_length`` characters are accepted and kept whole.

    Args:
        text: What the user wrote.
        field: Field name reported in errors.
        min_words: Words needed (see :func:`count_words`).
        max_length: Most characters accepted, after trimming.

    Returns:
        The cleaned text.

    Raises:
        InvalidInput: ``required`` (missing, empty, whitespace), ``too_long``,
            ``no_words`` (only emoji or symbols) or ``too_short`` (fewer than
            ``min_words`` words).

    """
    cleaned = clean_text(text)
    if not cleaned:
        raise InvalidInput(field, REQUIRED)
    if len(cleaned) > max_length:
        raise InvalidInput(field, TOO_LONG, max_length)
    words = count_words(cleaned)
    if words == 0:
        raise InvalidInput(field, NO_WORDS)
    if words < min_words:
        raise InvalidInput(field, TOO_SHORT, min_words)
    return cleaned


def validate_description(text: object) -> str:
    """Check a ticket description: 3 words to 5,000 characters (see :func:`validate_text`).

    Args:
        text: What the user wrote.

    Returns:
        The cleaned description.

    Raises:
        InvalidInput: With ``field="description"``; over 5,000 characters is rejected
            (``too_long``), not truncated.

    """
    return validate_text(text, "description")


def validate_choice(field: str, value: object, allowed: Iterable[str]) -> str:
    """Check that a value is one of the allowed codes.

    Args:
        field: Field name reported in errors.
        value: The value.
        allowed: The allowed values.

    Returns:
        The value.

    Raises:
        InvalidInput: ``required`` when empty, ``not_allowed`` otherwise.

    """
    if value is None or value == "":
        raise InvalidInput(field, REQUIRED)
    if not isinstance(value, str) or value not in tuple(allowed):
        raise InvalidInput(field, NOT_ALLOWED)
    return value


def validate_kind(value: object) -> str:
    """Check a ticket kind (``complaint`` or ``suggestion``)."""
    return validate_choice("kind", value, KINDS)


def validate_category(value: object) -> str:
    """Check a ticket category (one of :data:`bot.storage.models.CATEGORIES`)."""
    return validate_choice("category", value, CATEGORIES)


def validate_status(value: object) -> str:
    """Check a ticket status (one of :data:`bot.storage.models.STATUSES`)."""
    return validate_choice("status", value, STATUSES)


def validate_language(value: object) -> str:
    """Check a language variety (one of :data:`bot.settings.LANGUAGES`)."""
    return validate_choice("language", value, LANGUAGES)


def validate_channel(value: object) -> str:
    """Check a channel name: 1-32 letters, digits, ``_``, ``-`` or ``.``.

    Raises:
        InvalidInput: ``required`` or ``invalid``.

    """
    if not value:
        raise InvalidInput("channel", REQUIRED)
    if not isinstance(value, str) or not _CHANNEL.fullmatch(value):
        raise InvalidInput("channel", INVALID)
    return value


def validate_user_key(value: object) -> str:
    """Check a pseudonymous user key (see :mod:`bot.tickets.pseudonym`).

    Raises:
        InvalidInput: ``required`` or ``invalid`` (a raw sender id is refused).

    """
    if not value:
        raise InvalidInput("user_key", REQUIRED)
    if not is_user_key(value if isinstance(value, str) else None):
        raise InvalidInput("user_key", INVALID)
    return str(value)


def validate_service(value: object) -> str | None:
    """Check the consulate or service concerned (optional plain text).

    Args:
        value: The text, or None.

    Returns:
        The cleaned text, None when empty.

    Raises:
        InvalidInput: ``too_long`` over 200 characters.

    """
    cleaned = clean_text(value)
    if not cleaned:
        return None
    if len(cleaned) > SERVICE_MAX:
        raise InvalidInput("service", TOO_LONG, SERVICE_MAX)
    return cleaned


def validate_email(value: object) -> str:
    """Check an e-mail address.

    A pragmatic check (``local@domain.tld``, ASCII, at most 254 characters, no spaces, no
    consecutive or edge dots); the domain part is lower-cased.

    Args:
        value: The address as typed.

    Returns:
        The trimmed address.

    Raises:
        InvalidInput: ``required`` or ``invalid`` with ``field="contact"``.

    """
    text = clean_text(value)
    if not text:
        raise InvalidInput("contact", REQUIRED)
    if len(text) > CONTACT_MAX or not _EMAIL.fullmatch(text):
        raise InvalidInput("contact", INVALID)
    local, _, domain = text.rpartition("@")
    if len(local) > 64:
        raise InvalidInput("contact", INVALID)
    return f"{local}@{domain.lower()}"


def validate_phone(value: object) -> str:
    """Check an international phone number (E.164-like).

    Accepted: ``+`` (or ``00``) then 8 to 15 digits, the first not 0; spaces and dashes
    between digits are allowed and removed (``+33 6 12-34-56-78`` -> ``+33612345678``).

    Args:
        value: The number as typed.

    Returns:
        ``+`` followed by the digits.

    Raises:
        InvalidInput: ``required`` or ``invalid`` with ``field="contact"``.

    """
    text = clean_text(value)
    if not text:
        raise InvalidInput("contact", REQUIRED)
    if not _PHONE_CHARS.fullmatch(text):
        raise InvalidInput("contact", INVALID)
    digits = re.sub(r"[^0-9]", "", text[1:] if text.startswith("+") else text[2:])
    if not 8 <= len(digits) <= 15 or digits[0] == "0":
        raise InvalidInput("contact", INVALID)
    return f"+{digits}"


def validate_contact(contact_kind: object, contact: object) -> str | None:
    """Check how the user wants to be answered.

    Args:
        contact_kind: ``chat``, ``email`` or ``phone``.
        contact: The address or number; must be empty for ``chat``.

    Returns:
        The cleaned contact, None for ``chat``.

    Raises:
        InvalidInput: ``contact_kind``/``not_allowed``, ``contact``/``required``,
            ``contact``/``invalid``, or ``contact``/``unexpected`` (a contact given with
            ``chat``: we do not keep personal data we will not use).

    """
    kind = validate_choice("contact_kind", contact_kind, CONTACT_KINDS)
    if kind == "chat":
        if clean_text(contact):
            raise InvalidInput("contact", UNEXPECTED)
        return None
    if kind == "email":
        return validate_email(contact)
    return validate_phone(contact)
