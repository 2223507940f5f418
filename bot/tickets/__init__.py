"""Complaint and suggestion tickets of users (storage in :mod:`bot.storage`).

Public API:

* :class:`~bot.tickets.service.TicketService`: create, look up, follow up, erase, throttle;
* :func:`~bot.tickets.refs.new_ref`, :func:`~bot.tickets.refs.normalize_ref`: references;
* :func:`~bot.tickets.pseudonym.user_key`: pseudonymous user keys;
* :mod:`bot.tickets.validation`: the same checks, for forms that validate slot by slot;
* :mod:`bot.tickets.errors`: ``InvalidInput``, ``TicketNotFound``, ``NotOwner``...
"""

from bot.tickets.errors import (
    InvalidInput,
    NotOwner,
    RefCollision,
    TicketClosed,
    TicketError,
    TicketNotFound,
)
from bot.tickets.pseudonym import user_key, user_key_for
from bot.tickets.refs import new_ref, normalize_ref
from bot.tickets.service import (
    ErasureCounts,
    EventView,
    StatusView,
    TicketService,
    TicketSummary,
)

__all__ = [
    "ErasureCounts",
    "EventView",
    "InvalidInput",
    "NotOwner",
    "RefCollision",
    "StatusView",
    "TicketClosed",
    "TicketError",
    "TicketNotFound",
    "TicketService",
    "TicketSummary",
    "new_ref",
    "normalize_ref",
    "user_key",
    "user_key_for",
]
