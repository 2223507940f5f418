"""Exceptions of the ticket service.

They never carry the user's text or contact details, only machine-readable codes, so they
can be logged and shown to translators/templates safely.
"""

from __future__ import annotations

#: ``InvalidInput.reason`` values.
REQUIRED = "required"  # missing, empty or only whitespace
TOO_SHORT = "too_short"  # fewer words/characters than needed
NO_WORDS = "no_words"  # only emoji, punctuation or symbols
TOO_LONG = "too_long"  # over the maximum length (the limit is in ``InvalidInput.limit``)
INVALID = "invalid"  # wrong format (e-mail, phone, reference, key...)
NOT_ALLOWED = "not_allowed"  # not one of the allowed values
UNEXPECTED = "unexpected"  # a value was given where none is accepted
UNCHANGED = "unchanged"  # the change would do nothing

REASONS: tuple[str, ...] = (
    REQUIRED,
    TOO_SHORT,
    NO_WORDS,
    TOO_LONG,
    INVALID,
    NOT_ALLOWED,
    UNEXPECTED,
    UNCHANGED,
)


class TicketError(Exception):
    """Base class of every error raised by :mod:`bot.tickets`."""


class InvalidInput(TicketError, ValueError):
    """An argument was refused.

    Attributes:
        field: Name of the argument (``description``, ``contact``, ``category``...).
        reason: One of :data:`REASONS`.
        limit: The bound that was violated, for ``too_short``/``too_long``.

    """

    def __init__(self, field: str, reason: str, limit: int | None = None) -> None:
        self.field = field
        self.reason = reason
        self.limit = limit
        message = f"{field}: {reason}"
        if limit is not None:
            message += f" (limit {limit})"
        super().__init__(message)


class TicketNotFound(TicketError, LookupError):
    """No ticket has this reference (or the reference is malformed).

    Attributes:
        ref: The canonical reference, or None when the given text was malformed.

    """

    def __init__(self, ref: str | None) -> None:
        self.ref = ref
        super().__init__(f"no ticket {ref}" if ref else "malformed ticket reference")


class NotOwner(TicketError, PermissionError):
    """The ticket exists but belongs to someone else (or its data was erased).

    Attributes:
        ref: The ticket's reference.

    """

    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(f"ticket {ref} belongs to another user")


class TicketClosed(TicketError):
    """The action is not possible in the ticket's current status.

    Attributes:
        ref: The ticket's reference.
        status: Its status (``closed`` or ``cancelled``).

    """

    def __init__(self, ref: str, status: str) -> None:
        self.ref = ref
        self.status = status
        super().__init__(f"ticket {ref} is {status}")


class RefCollision(TicketError):
    """No free reference could be drawn after several attempts (should never happen)."""
