"""Tables of the complaint/suggestion tickets, their history and look-up throttling.

The allowed values of the enumerated columns live here as tuples (the single source of
truth used by the CHECK constraints, the migration and the service's validation).

Privacy: ``user_key`` is a pseudonym (HMAC of channel and sender id, see
:mod:`bot.tickets.pseudonym`), never the raw id. ``contact``, ``description`` and event
``text`` are the only free personal data; erasure sets them to NULL and unlinks the ticket
from its ``user_key``, keeping the anonymous statistics (kind, category, status, dates).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import declarative_base, relationship

#: Ticket kinds.
KINDS: tuple[str, ...] = ("complaint", "suggestion")
#: Ticket categories.
CATEGORIES: tuple[str, ...] = ("consular", "civil_status", "justice", "social_tax_land", "other")
#: How the user wants to be answered.
CONTACT_KINDS: tuple[str, ...] = ("chat", "email", "phone")
#: Ticket statuses.
STATUSES: tuple[str, ...] = ("open", "in_progress", "answered", "closed", "cancelled")
#: Kinds of history events.
EVENT_KINDS: tuple[str, ...] = (
    "created",
    "status_change",
    "note",
    "user_message",
    "staff_reply",
    "cancelled",
    "data_erased",
)
#: Who caused an event.
AUTHORS: tuple[str, ...] = ("user", "staff", "system")

#: Longest accepted description / message, in characters.
DESCRIPTION_MAX = 5000
#: Longest ``service`` text.
SERVICE_MAX = 200
#: Longest contact (an e-mail address may have up to 254 characters).
CONTACT_MAX = 254

#: Constraint names, so that Alembic (and SQLite batch migrations) can address them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)
Base: Any = declarative_base(metadata=metadata)


def utcnow() -> dt.datetime:
    """Return the current time, timezone-aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def _in(column: str, values: tuple[str, ...]) -> str:
    """Build the SQL of a ``column IN (...)`` check (values are our own constants)."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are stored as
    naive UTC and the zone is re-attached on reading. Naive values are refused on writing.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Convert to UTC (and drop the zone on SQLite)."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime; use an aware UTC datetime")
        value = value.astimezone(dt.timezone.utc)
        if dialect.name == "sqlite":
            value = value.replace(tzinfo=None)
        return value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


class Ticket(Base):
    """A complaint or suggestion sent by a user.

    Attributes:
        id: Surrogate key.
        ref: Public reference ``MDM-XXXX-XXXX`` (unique).
        kind: One of :data:`KINDS`.
        category: One of :data:`CATEGORIES`.
        service: Consulate or administration concerned (plain text), if any.
        description: What the user wrote (plain text, at most :data:`DESCRIPTION_MAX`
            characters); NULL once erased.
        language: Language variety of the conversation (``fr``, ``ar``...).
        channel: Channel the ticket came from (``rest``, ``socketio``, ``telegram``...).
        user_key: Pseudonymous owner key; NULL once the user's data was erased.
        contact_kind: One of :data:`CONTACT_KINDS`.
        contact: E-mail or phone number (NULL for ``chat`` and once erased).
        consent: The user agreed to the storage of the ticket.
        status: One of :data:`STATUSES`.
        created_at: Creation time (UTC).
        updated_at: Last change of status or content (UTC).
        due_at: Answer expected before this time (creation + 60 days).
        erased_at: When the personal data of the ticket was erased, if ever.

    """

    __tablename__ = "tickets"

    id = Column(Integer, primary_key=True, autoincrement=True)
    ref = Column(String(13), nullable=False, unique=True)
    kind = Column(String(16), nullable=False)
    category = Column(String(32), nullable=False)
    service = Column(String(SERVICE_MAX), nullable=True)
    description = Column(Text, nullable=True)
    language = Column(String(16), nullable=False)
    channel = Column(String(32), nullable=False)
    user_key = Column(String(64), nullable=True, index=True)
    contact_kind = Column(String(8), nullable=False, default="chat")
    contact = Column(String(CONTACT_MAX), nullable=True)
    consent = Column(Boolean, nullable=False, default=False)
    status = Column(String(16), nullable=False, default="open", index=True)
    created_at = Column(UTCDateTime(), nullable=False, default=utcnow)
    updated_at = Column(UTCDateTime(), nullable=False, default=utcnow)
    due_at = Column(UTCDateTime(), nullable=False)
    erased_at = Column(UTCDateTime(), nullable=True)

    events = relationship(
        "TicketEvent",
        back_populates="ticket",
        order_by="TicketEvent.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    __table_args__ = (
        CheckConstraint(_in("kind", KINDS), name="kind"),
        CheckConstraint(_in("category", CATEGORIES), name="category"),
        CheckConstraint(_in("contact_kind", CONTACT_KINDS), name="contact_kind"),
        CheckConstraint(_in("status", STATUSES), name="status"),
    )

    def __repr__(self) -> str:
        # Never include free text or contact details.
        return f"<Ticket {self.ref} {self.kind}/{self.category} {self.status}>"


class TicketEvent(Base):
    """One entry of a ticket's history.

    Attributes:
        id: Surrogate key (also the order of events).
        ticket_id: The ticket.
        at: When it happened (UTC).
        kind: One of :data:`EVENT_KINDS`.
        old_status: Status before the event, for status changes.
        new_status: Status after the event, for status changes.
        text: Message or note (plain text); NULL once erased.
        author: One of :data:`AUTHORS`.

    """

    __tablename__ = "ticket_events"

    id = Column(Integer, primary_key=True, autoincrement=True)
    ticket_id = Column(
        Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True
    )
    at = Column(UTCDateTime(), nullable=False, default=utcnow)
    kind = Column(String(16), nullable=False)
    old_status = Column(String(16), nullable=True)
    new_status = Column(String(16), nullable=True)
    text = Column(Text, nullable=True)
    author = Column(String(8), nullable=False)

    ticket = relationship("Ticket", back_populates="events")

    __table_args__ = (
        CheckConstraint(_in("kind", EVENT_KINDS), name="kind"),
        CheckConstraint(_in("author", AUTHORS), name="author"),
    )

    def __repr__(self) -> str:
        return f"<TicketEvent {self.kind} by {self.author} on ticket {self.ticket_id}>"


class FailedLookup(Base):
    """A failed ticket look-up (unknown or malformed reference), for throttling.

    Attributes:
        id: Surrogate key.
        user_key: Pseudonymous key of who tried.
        at: When (UTC).

    """

    __tablename__ = "failed_lookups"

    id = Column(Integer, primary_key=True, autoincrement=True)
    user_key = Column(String(64), nullable=False)
    at = Column(UTCDateTime(), nullable=False, default=utcnow)

    __table_args__ = (
        Index("ix_failed_lookups_user_key_at", "user_key", "at"),
        Index("ix_failed_lookups_at", "at"),
    )

    def __repr__(self) -> str:
        return f"<FailedLookup at {self.at}>"
